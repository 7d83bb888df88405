package cib

import (
	"path/filepath"
	"strings"
	"time"
)

// Alert is Pacemaker's <alert>: an external program run for cluster
// events (node, fencing, resource, attribute), once per recipient, with
// the event in CRM_alert_* environment variables.
type Alert struct {
	ID          string `json:"id"`
	Path        string `json:"path"`
	Description string `json:"description,omitempty"`
	// Options are the alert's instance attributes: passed to the agent
	// as environment variables of the same names.
	Options map[string]string `json:"options,omitempty"`
	// Meta holds timeout, timestamp-format and enabled.
	Meta       map[string]string `json:"meta,omitempty"`
	Select     *AlertSelect      `json:"select,omitempty"`
	Recipients []AlertRecipient  `json:"recipients,omitempty"`
}

// AlertRecipient is one <recipient>: the agent runs once per recipient,
// with CRM_alert_recipient set to Value. Its meta attributes override
// the alert's.
type AlertRecipient struct {
	ID          string            `json:"id"`
	Value       string            `json:"value"`
	Description string            `json:"description,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// AlertSelect is Pacemaker's <select>: which kinds of event the agent
// wants. Nil means node, fencing and resource events (not attributes),
// as in Pacemaker.
type AlertSelect struct {
	Nodes      bool `json:"nodes,omitempty"`
	Fencing    bool `json:"fencing,omitempty"`
	Resources  bool `json:"resources,omitempty"`
	Attributes bool `json:"attributes,omitempty"`
	// AttributeNames limits attribute alerts to these names (empty: all).
	AttributeNames []string `json:"attribute_names,omitempty"`
}

// Alert event kinds, as CRM_alert_kind spells them.
const (
	AlertKindNode      = "node"
	AlertKindFencing   = "fencing"
	AlertKindResource  = "resource"
	AlertKindAttribute = "attribute"
)

// Wants reports whether the alert takes events of kind (and, for
// attribute events, of the attribute name).
func (a *Alert) Wants(kind, attribute string) bool {
	if v, ok := a.Meta["enabled"]; ok && !IsTrue(v) {
		return false
	}
	s := a.Select
	if s == nil {
		return kind != AlertKindAttribute
	}
	switch kind {
	case AlertKindNode:
		return s.Nodes
	case AlertKindFencing:
		return s.Fencing
	case AlertKindResource:
		return s.Resources
	case AlertKindAttribute:
		return s.Attributes && (len(s.AttributeNames) == 0 || contains(s.AttributeNames, attribute))
	}
	return false
}

// DefaultAlertTimeout and DefaultAlertTimestampFormat are Pacemaker's.
const (
	DefaultAlertTimeout         = 30 * time.Second
	DefaultAlertTimestampFormat = "%H:%M:%S.%06N"
)

// AlertMeta are the meta attributes an alert or recipient may set.
var AlertMeta = map[string]string{
	"timeout":          "how long the agent may run before it is killed (default 30s)",
	"timestamp-format": "strftime format of CRM_alert_timestamp; %N is the fraction of a second, %3N its first 3 digits (default %H:%M:%S.%06N)",
	"enabled":          "false turns the alert (or recipient) off without deleting it",
}

// Alert returns the alert with the given id, or nil.
func (c *Configuration) Alert(id string) *Alert {
	for i := range c.Alerts {
		if c.Alerts[i].ID == id {
			return &c.Alerts[i]
		}
	}
	return nil
}

// AlertOfRecipient returns the alert holding recipient id and the
// recipient's index in it, or nil.
func (c *Configuration) AlertOfRecipient(id string) (*Alert, int) {
	for i := range c.Alerts {
		for j, r := range c.Alerts[i].Recipients {
			if r.ID == id {
				return &c.Alerts[i], j
			}
		}
	}
	return nil, -1
}

func cloneAlerts(as []Alert) []Alert {
	return cloneSlice(as, func(a Alert) Alert {
		a.Options = cloneMap(a.Options)
		a.Meta = cloneMap(a.Meta)
		if a.Select != nil {
			s := *a.Select
			s.AttributeNames = cloneSlice(s.AttributeNames, func(n string) string { return n })
			a.Select = &s
		}
		a.Recipients = cloneSlice(a.Recipients, func(r AlertRecipient) AlertRecipient {
			r.Options = cloneMap(r.Options)
			r.Meta = cloneMap(r.Meta)
			return r
		})
		return a
	})
}

func (v *validator) alerts() {
	for i := range v.cfg.Alerts {
		a := &v.cfg.Alerts[i]
		where := "alert " + a.ID
		v.id(where, a.ID)
		switch {
		case a.Path == "":
			v.add(where, "path", "missing path: give the alert agent's absolute path, e.g. path=/usr/local/bin/notify.sh")
		case !filepath.IsAbs(a.Path):
			v.add(where, "path", "%q is not an absolute path: pacerd runs the agent from /, so write e.g. /usr/local/bin/%s", a.Path, filepath.Base(a.Path))
		case strings.ContainsAny(a.Path, "\n\x00"):
			v.add(where, "path", "the path contains a newline or NUL byte")
		}
		v.alertMeta(where, a.Meta)
		v.envNames(where, a.Options)
		if s := a.Select; s != nil && s.AttributeNames != nil && !s.Attributes {
			v.add(where, "select", "attribute names are listed but attribute events are not selected")
		}
		for _, r := range a.Recipients {
			rw := where + " recipient " + r.ID
			v.id(rw, r.ID)
			if r.Value == "" {
				v.add(rw, "value", "missing value: give what the agent should notify, e.g. value=admin@example.com")
			}
			v.alertMeta(rw, r.Meta)
			v.envNames(rw, r.Options)
		}
	}
}

func (v *validator) alertMeta(where string, meta map[string]string) {
	for _, name := range sortedKeys(meta) {
		val := meta[name]
		switch name {
		case "timeout":
			d, err := ParseDuration(val)
			if err == nil && d <= 0 {
				v.add(where, "meta timeout", "%q: the timeout must be more than zero, e.g. timeout=30s", val)
			} else if err != nil {
				v.add(where, "meta timeout", "%v", err)
			}
		case "timestamp-format":
			if val == "" {
				v.add(where, "meta timestamp-format", "empty format: leave it unset for the default %s", DefaultAlertTimestampFormat)
			}
		case "enabled":
			if _, ok := parseBool(val); !ok {
				v.add(where, "meta enabled", "%q is not a boolean: use true or false", val)
			}
		default:
			v.add(where, "meta "+name, "unknown alert meta attribute: use timeout, timestamp-format or enabled (agent settings go under 'options')")
		}
	}
}

// envNames checks that options can be environment variable names, and
// that they do not overwrite the event's own variables.
func (v *validator) envNames(where string, opts map[string]string) {
	for _, name := range sortedKeys(opts) {
		ok := name != ""
		for i, r := range name {
			if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')) {
				ok = false
			}
		}
		switch {
		case !ok:
			v.add(where, "option "+name, "options become environment variables: use letters, digits and '_', not starting with a digit")
		case strings.HasPrefix(name, "CRM_alert_") || strings.HasPrefix(name, "CRM_notify_"):
			v.add(where, "option "+name, "names starting with CRM_alert_ or CRM_notify_ are the event's own variables: choose another name")
		}
	}
}
