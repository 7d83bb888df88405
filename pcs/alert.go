package pcs

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/store"
)

// alertArgs is what follows 'alert create' and friends: name=value pairs
// of the alert (or recipient) itself, then optional 'options k=v...' and
// 'meta k=v...' blocks, as pcs reads them.
type alertArgs struct {
	main, options, meta map[string]string
}

func parseAlertArgs(args []string, allowed ...string) (alertArgs, []string) {
	aa := alertArgs{main: map[string]string{}, options: map[string]string{}, meta: map[string]string{}}
	var problems []string
	section := "main"
	for _, a := range args {
		if a == "options" || a == "meta" {
			section = a
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			problems = append(problems, fmt.Sprintf("%q is not name=value: write e.g. %s=..., 'options NAME=VALUE' or 'meta timeout=30s'", a, allowed[0]))
			continue
		}
		switch section {
		case "main":
			if !slices.Contains(allowed, k) {
				problems = append(problems, fmt.Sprintf("unknown option %q: use %s; agent settings go after 'options', timeout and timestamp-format after 'meta'", k, strings.Join(allowed, ", ")))
				continue
			}
			aa.main[k] = v
		case "options":
			aa.options[k] = v
		case "meta":
			if _, known := cib.AlertMeta[k]; !known {
				problems = append(problems, fmt.Sprintf("unknown meta option %q: use %s", k, strings.Join(slices.Sorted(maps.Keys(cib.AlertMeta)), ", ")))
				continue
			}
			aa.meta[k] = v
		}
	}
	return aa, problems
}

// nonEmpty drops empty values: on create, name= means "not set".
func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func optional(m map[string]string, k string) *string {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}

func alertCmd(g *globals) *cobra.Command {
	config := &cobra.Command{
		Use:     "config",
		Aliases: []string{"show"},
		Short:   "Show the configured alerts and their recipients",
		Args:    noArgs(""),
		RunE:    func(c *cobra.Command, args []string) error { return g.showAlerts() },
	}
	addJSON(config, g)
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "Alert agents: programs run for node, fencing and resource events",
		Long: "Alert agents are Pacemaker's: the agent at PATH runs on each node for that node's events,\n" +
			"once per recipient, with the event in CRM_alert_* environment variables.\n" +
			"Without a subcommand, 'pcsctl alert' shows the configuration.",
		Args: noArgs("use a subcommand: create, update, delete, recipient, config"),
		RunE: func(c *cobra.Command, args []string) error { return g.showAlerts() },
	}
	addJSON(cmd, g)
	create := &cobra.Command{
		Use:   "create path=PATH [id=ID] [description=TEXT] [options NAME=VALUE...] [meta timeout=DURATION timestamp-format=FORMAT...]",
		Short: "Create an alert",
		Example: "  pcsctl alert create path=/usr/local/bin/notify.sh id=notify meta timeout=15s\n" +
			"  pcsctl alert create path=/usr/share/pacemaker/alerts/alert_file.sh.sample options debug=false",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			aa, problems := parseAlertArgs(args, "path", "id", "description")
			if aa.main["path"] == "" && len(problems) == 0 {
				problems = append(problems, "path is required: write e.g. path=/usr/local/bin/notify.sh")
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			a := cib.Alert{ID: aa.main["id"], Path: aa.main["path"], Description: aa.main["description"], Options: nonEmpty(aa.options), Meta: nonEmpty(aa.meta)}
			return g.applyAll([]store.Command{&store.CreateAlert{Alert: a}})
		},
	}
	update := &cobra.Command{
		Use:   "update ALERT-ID [path=PATH] [description=TEXT] [options NAME=VALUE...] [meta NAME=VALUE...]",
		Short: "Change an alert (an empty value removes an option)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			aa, problems := parseAlertArgs(args[1:], "path", "description")
			if err := problemsErr(problems); err != nil {
				return err
			}
			return g.applyAll([]store.Command{&store.UpdateAlert{ID: args[0], Path: optional(aa.main, "path"), Description: optional(aa.main, "description"), Options: aa.options, Meta: aa.meta}})
		},
	}
	del := &cobra.Command{
		Use:     "delete ALERT-ID...",
		Aliases: []string{"remove"},
		Short:   "Delete alerts with their recipients",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.applyAll([]store.Command{&store.DeleteAlert{IDs: args}})
		},
	}
	cmd.AddCommand(config, create, update, del, alertRecipientCmd(g))
	return cmd
}

func alertRecipientCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "recipient", Short: "Add, change and remove the recipients of an alert"}
	var force bool
	add := &cobra.Command{
		Use:     "add ALERT-ID value=VALUE [id=ID] [description=TEXT] [options NAME=VALUE...] [meta NAME=VALUE...] [--force]",
		Short:   "Add a recipient: the agent runs once per recipient, with CRM_alert_recipient=VALUE",
		Example: "  pcsctl alert recipient add notify value=ops@example.com",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			aa, problems := parseAlertArgs(args[1:], "value", "id", "description")
			if aa.main["value"] == "" && len(problems) == 0 {
				problems = append(problems, "value is required: write e.g. value=ops@example.com")
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			r := cib.AlertRecipient{ID: aa.main["id"], Value: aa.main["value"], Description: aa.main["description"], Options: nonEmpty(aa.options), Meta: nonEmpty(aa.meta)}
			return g.applyAll([]store.Command{&store.AddAlertRecipient{Alert: args[0], Recipient: r, AllowDuplicate: force}})
		},
	}
	add.Flags().BoolVar(&force, "force", false, "add a recipient whose value the alert already has")
	var forceUpd bool
	update := &cobra.Command{
		Use:   "update RECIPIENT-ID [value=VALUE] [description=TEXT] [options NAME=VALUE...] [meta NAME=VALUE...] [--force]",
		Short: "Change a recipient (an empty value removes an option)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			aa, problems := parseAlertArgs(args[1:], "value", "description")
			if v, ok := aa.main["value"]; ok && v == "" {
				problems = append(problems, "value cannot be emptied: give the new value, or delete the recipient")
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			return g.applyAll([]store.Command{&store.UpdateAlertRecipient{ID: args[0], Value: optional(aa.main, "value"), Description: optional(aa.main, "description"), Options: aa.options, Meta: aa.meta, AllowDuplicate: forceUpd}})
		},
	}
	update.Flags().BoolVar(&forceUpd, "force", false, "allow a value another recipient of the alert already has")
	del := &cobra.Command{
		Use:     "delete RECIPIENT-ID...",
		Aliases: []string{"remove"},
		Short:   "Remove recipients",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.applyAll([]store.Command{&store.RemoveAlertRecipient{IDs: args}})
		},
	}
	cmd.AddCommand(add, update, del)
	return cmd
}

func (g *globals) showAlerts() error {
	x, err := g.readCIB()
	if err != nil {
		return err
	}
	if g.json {
		list := x.Config.Alerts
		if list == nil {
			list = []cib.Alert{}
		}
		return g.printJSON(list)
	}
	if len(x.Config.Alerts) == 0 {
		g.printf("No alerts defined\n")
		return nil
	}
	g.printf("%s", formatAlerts(x.Config.Alerts))
	return nil
}

// formatAlerts prints alerts as 'pcs alert config' does.
func formatAlerts(list []cib.Alert) string {
	var b strings.Builder
	line := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	pairs := func(indent int, label string, m map[string]string) {
		if len(m) == 0 {
			return
		}
		line(indent, "%s:", label)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			line(indent+1, "%s=%s", k, m[k])
		}
	}
	for _, a := range list {
		line(0, "Alert: %s", a.ID)
		if a.Description != "" {
			line(1, "Description: %s", a.Description)
		}
		line(1, "Path: %s", a.Path)
		if len(a.Recipients) > 0 {
			line(1, "Recipients:")
			for _, r := range a.Recipients {
				line(2, "Recipient: %s", r.ID)
				if r.Description != "" {
					line(3, "Description: %s", r.Description)
				}
				line(3, "Value: %s", r.Value)
				pairs(3, "Attributes", r.Options)
				pairs(3, "Meta Attributes", r.Meta)
			}
		}
		if s := a.Select; s != nil {
			line(1, "Receives:")
			for _, k := range []struct {
				on   bool
				name string
			}{{s.Nodes, "nodes"}, {s.Fencing, "fencing"}, {s.Resources, "resources"}} {
				if k.on {
					line(2, "%s", k.name)
				}
			}
			if s.Attributes {
				if len(s.AttributeNames) > 0 {
					line(2, "attributes: %s", strings.Join(s.AttributeNames, ", "))
				} else {
					line(2, "attributes")
				}
			}
		}
		pairs(1, "Attributes", a.Options)
		pairs(1, "Meta Attributes", a.Meta)
	}
	return b.String()
}
