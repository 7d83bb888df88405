package agents

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// MetaData describes an agent: what `pcsctl resource describe` shows and
// what `pcsctl resource create` checks parameters against. OCF agents
// produce it from their meta-data XML; native agents build it in Go.
type MetaData struct {
	Name string `json:"name"`
	// Version is the agent's own version; OCFVersion the OCF API version
	// it claims (the <version> element), "1.0" or "1.1".
	Version    string       `json:"version,omitempty"`
	OCFVersion string       `json:"ocf_version,omitempty"`
	ShortDesc  string       `json:"shortdesc,omitempty"`
	LongDesc   string       `json:"longdesc,omitempty"`
	Parameters []Parameter  `json:"parameters"`
	Actions    []ActionSpec `json:"actions"`
	Special    []string     `json:"special,omitempty"` // <special tag="..."> tags
}

// Parameter is one instance attribute the agent takes.
type Parameter struct {
	Name        string   `json:"name"`
	Required    bool     `json:"required,omitempty"`
	Unique      bool     `json:"unique,omitempty"`
	UniqueGroup string   `json:"unique_group,omitempty"`
	Reloadable  bool     `json:"reloadable,omitempty"`
	Deprecated  bool     `json:"deprecated,omitempty"`
	Type        string   `json:"type,omitempty"` // string, integer, boolean, select, ...
	Default     string   `json:"default,omitempty"`
	Options     []string `json:"options,omitempty"` // allowed values of a select
	ShortDesc   string   `json:"shortdesc,omitempty"`
	LongDesc    string   `json:"longdesc,omitempty"`
}

// ActionSpec is an action the agent supports with its advised timeout.
type ActionSpec struct {
	Name     string        `json:"name"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	Interval time.Duration `json:"interval,omitempty"`
	Depth    int           `json:"depth,omitempty"` // OCF_CHECK_LEVEL of a monitor
	Role     string        `json:"role,omitempty"`
}

// Param returns the named parameter.
func (m *MetaData) Param(name string) (Parameter, bool) {
	for _, p := range m.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}

// Action returns the first action spec with that name (for monitor: the
// one at depth 0 when there are several).
func (m *MetaData) Action(name string) (ActionSpec, bool) {
	var found *ActionSpec
	for i := range m.Actions {
		a := &m.Actions[i]
		if a.Name != name {
			continue
		}
		if found == nil || (found.Depth != 0 && a.Depth == 0) {
			found = a
		}
	}
	if found == nil {
		return ActionSpec{}, false
	}
	return *found, true
}

// ParamError lists what is wrong with a set of instance attributes, in the
// words pcs uses. The API can send Missing and Unknown as they are.
type ParamError struct {
	Agent   string
	Missing []string // required parameters not given
	Unknown []string // parameters the agent does not know
	Allowed []string // the parameters it does know (for the message)
	Invalid []string // "name=value: why"
}

func (e *ParamError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("required option(s) %s missing", quoteList(e.Missing)))
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, fmt.Sprintf("invalid option(s) %s, allowed options are: %s",
			quoteList(e.Unknown), quoteList(e.Allowed)))
	}
	parts = append(parts, e.Invalid...)
	return fmt.Sprintf("agent %s: %s", e.Agent, strings.Join(parts, "; "))
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

// CheckParams checks instance attributes against the metadata as
// `pcs resource create` does: every required parameter must be given and
// every given one must be known. Values of select parameters must be one of
// the options. It returns nil or a *ParamError.
func (m *MetaData) CheckParams(params map[string]string) error {
	e := &ParamError{Agent: m.Name}
	known := map[string]Parameter{}
	for _, p := range m.Parameters {
		known[p.Name] = p
		e.Allowed = append(e.Allowed, p.Name)
		if _, ok := params[p.Name]; p.Required && !ok {
			e.Missing = append(e.Missing, p.Name)
		}
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p, ok := known[k]
		switch {
		case !ok:
			e.Unknown = append(e.Unknown, k)
		case len(p.Options) > 0 && !contains(p.Options, params[k]):
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s=%s: use one of %s", k, params[k], strings.Join(p.Options, ", ")))
		}
	}
	sort.Strings(e.Allowed)
	if len(e.Missing)+len(e.Unknown)+len(e.Invalid) == 0 {
		return nil
	}
	return e
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func isDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
