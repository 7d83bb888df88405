package pcs

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/store"
)

func resourceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "resource", Short: "Create, change and show resources"}
	var group, before, after string
	var disabled, force bool
	create := &cobra.Command{
		Use:   "create ID AGENT [NAME=VALUE...] [op OPERATION [NAME=VALUE...]...] [meta NAME=VALUE...] [--group GROUP] [--disabled]",
		Short: "Create a resource, e.g. 'create vip IPaddr2 ip=192.0.2.10 cidr_netmask=24 op monitor interval=10s'",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var problems []string
			if msg := cib.CheckID(args[0]); msg != "" {
				problems = append(problems, "resource "+msg)
			}
			agent, err := cib.ParseAgent(args[1], nil)
			if err != nil {
				problems = append(problems, err.Error())
			} else if agent.Class == "stonith" {
				problems = append(problems, "stonith devices are not ordinary resources: 'resource create' does not take the stonith class")
			}
			ra, more := parseResourceArgs(args[2:])
			problems = append(problems, more...)
			if group != "" {
				if msg := cib.CheckID(group); msg != "" {
					problems = append(problems, "group "+msg)
				}
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			if disabled {
				ra.meta["target-role"] = "Stopped"
			}
			p := cib.Primitive{ID: args[0], Class: agent.Class, Provider: agent.Provider, Type: agent.Type, Params: nilIfEmpty(ra.params), Meta: nilIfEmpty(ra.meta), Ops: ra.ops}
			// As pcs: the agent's meta-data (from this node) checks the
			// params and gives the default monitor; --force skips both.
			monitor := cib.Op{Name: "monitor", Interval: "10s", Timeout: "20s"}
			if !force {
				md, err := g.describe(agent)
				if err != nil {
					return fmt.Errorf("%v (--force creates the resource anyway)", err)
				}
				if err := md.CheckParams(ra.params); err != nil {
					return fmt.Errorf("%v (--force creates the resource anyway)", err)
				}
				if a, ok := md.Action("monitor"); ok && a.Interval > 0 {
					monitor.Interval = pcmkDuration(a.Interval)
					if a.Timeout > 0 {
						monitor.Timeout = pcmkDuration(a.Timeout)
					}
				}
			}
			if !hasOp(p.Ops, "monitor") {
				p.Ops = append(p.Ops, monitor)
			}
			return g.applyAll([]store.Command{&store.CreateResource{Primitive: p, Group: group, Before: before, After: after}})
		},
	}
	create.Flags().StringVar(&group, "group", "", "put the resource in this group (created when missing)")
	create.Flags().StringVar(&before, "before", "", "with --group: place before this member")
	create.Flags().StringVar(&after, "after", "", "with --group: place after this member")
	create.Flags().BoolVar(&disabled, "disabled", false, "create with target-role=Stopped")
	create.Flags().BoolVar(&force, "force", false, "skip the check of params against the agent's meta-data")

	del := &cobra.Command{
		Use:     "delete ID",
		Aliases: []string{"remove"},
		Short:   "Delete a resource, group or clone and the constraints that name it",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := g.applyAll([]store.Command{&store.DeleteResource{ID: args[0]}}); err != nil {
				return err
			}
			g.printf("Deleted %s\n", args[0])
			return nil
		},
	}
	update := &cobra.Command{
		Use:   "update ID [NAME=VALUE...] [op OPERATION [NAME=VALUE...]...] [meta NAME=VALUE...]",
		Short: "Change params, operations or meta attributes (an empty value removes one)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			ra, problems := parseResourceArgs(args[1:])
			if err := problemsErr(problems); err != nil {
				return err
			}
			return g.applyAll([]store.Command{&store.UpdateResource{ID: args[0], Params: ra.params, Meta: ra.meta, Ops: ra.ops}})
		},
	}
	meta := &cobra.Command{
		Use:   "meta ID NAME=VALUE...",
		Short: "Set meta attributes of a resource, group or clone",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			ra, problems := parseResourceArgs(append([]string{"meta"}, args[1:]...))
			if err := problemsErr(problems); err != nil {
				return err
			}
			return g.applyAll([]store.Command{&store.UpdateResource{ID: args[0], Meta: ra.meta}})
		},
	}
	enable := func(use, role, short string) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID...", Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				var cmds []store.Command
				for _, id := range args {
					cmds = append(cmds, &store.UpdateResource{ID: id, Meta: map[string]string{"target-role": role}})
				}
				return g.applyAll(cmds)
			},
		}
	}
	config := &cobra.Command{
		Use:   "config [ID...]",
		Short: "Show the configuration of resources",
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			rs, err := selectResources(x, args)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(rs)
			}
			for _, r := range rs {
				printResourceConfig(g, r)
			}
			return nil
		},
	}
	addJSON(config, g)
	status := &cobra.Command{
		Use:   "status [ID]",
		Short: "Show where resources run",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := g.status()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				var keep = st.Resources[:0]
				for _, r := range st.Resources {
					if r.ID == args[0] || r.Group == args[0] || r.Clone == args[0] {
						keep = append(keep, r)
					}
				}
				if len(keep) == 0 {
					return usage("resource %q does not exist", args[0])
				}
				st.Resources = keep
			}
			if g.json {
				return g.printJSON(st.Resources)
			}
			printResources(g.out, st.Resources)
			return nil
		},
	}
	addJSON(status, g)
	cmd.AddCommand(moveCmds(g)...)
	cmd.AddCommand(agentCmds(g)...)
	cmd.AddCommand(create, del, update, meta, config, status, groupCmd(g),
		enable("enable", "", "Let the cluster start resources (removes target-role)"),
		enable("disable", "Stopped", "Stop resources and keep them stopped"),
	)
	return cmd
}

func hasOp(ops []cib.Op, name string) bool {
	for _, o := range ops {
		if o.Name == name {
			return true
		}
	}
	return false
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func selectResources(x *cib.CIB, ids []string) ([]cib.Resource, error) {
	if len(ids) == 0 {
		return x.Config.Resources, nil
	}
	var out []cib.Resource
	for _, id := range ids {
		found := false
		for _, r := range x.Config.Resources {
			if r.ID() == id {
				out, found = append(out, r), true
			}
		}
		if !found {
			if p := x.Config.Primitive(id); p != nil {
				out, found = append(out, cib.Resource{Primitive: p}), true
			}
		}
		if !found {
			return nil, usage("resource %q does not exist", id)
		}
	}
	return out, nil
}

func printResourceConfig(g *globals, r cib.Resource) {
	prim := func(p *cib.Primitive, indent string) {
		g.printf("%sResource: %s (%s)\n", indent, p.ID, p.Agent())
		if len(p.Params) > 0 {
			g.printf("%s  Attributes: %s\n", indent, kvList(p.Params))
		}
		if len(p.Meta) > 0 {
			g.printf("%s  Meta Attributes: %s\n", indent, kvList(p.Meta))
		}
		if len(p.Ops) > 0 {
			g.printf("%s  Operations:\n", indent)
			for _, o := range p.Ops {
				var parts []string
				for _, kv := range [][2]string{{"interval", o.Interval}, {"timeout", o.Timeout}, {"on-fail", o.OnFail}, {"role", o.Role}} {
					if kv[1] != "" {
						parts = append(parts, kv[0]+"="+kv[1])
					}
				}
				g.printf("%s    %s: %s\n", indent, o.Name, strings.Join(parts, " "))
			}
		}
	}
	switch {
	case r.Primitive != nil:
		prim(r.Primitive, "")
	case r.Group != nil:
		g.printf("Group: %s\n", r.Group.ID)
		if len(r.Group.Meta) > 0 {
			g.printf("  Meta Attributes: %s\n", kvList(r.Group.Meta))
		}
		for _, m := range r.Group.Members {
			prim(m, "  ")
		}
	case r.Clone != nil:
		g.printf("Clone: %s\n", r.Clone.ID)
		if len(r.Clone.Meta) > 0 {
			g.printf("  Meta Attributes: %s\n", kvList(r.Clone.Meta))
		}
		if r.Clone.Primitive != nil {
			prim(r.Clone.Primitive, "  ")
		}
		if r.Clone.Group != nil {
			printResourceConfig(g, cib.Resource{Group: r.Clone.Group})
		}
	}
}

func kvList(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%s", k, m[k])
	}
	return strings.Join(parts, " ")
}

// pcmkDuration writes a duration the way Pacemaker configurations do
// ("10s", "1500ms"), which cib.ParseDuration reads back.
func pcmkDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
