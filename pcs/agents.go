package pcs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/agents"
	"pacer/api"
	"pacer/crm/cib"
	"pacer/resources"
)

func agentCmds(g *globals) []*cobra.Command {
	list := &cobra.Command{
		Use:   "agents [CLASS[:PROVIDER]]",
		Short: "List the resource agents this node has (ocf, systemd)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			class, provider := "", ""
			if len(args) == 1 {
				class, provider, _ = strings.Cut(args[0], ":")
			}
			return g.with(func(cl *api.Client, cx context.Context) error {
				r, err := cl.Agents(cx, class, provider)
				if err != nil {
					return err
				}
				if g.json {
					return g.printJSON(r)
				}
				for _, a := range r.Agents {
					g.printf("%s\n", a)
				}
				return nil
			})
		},
	}
	addJSON(list, g)
	describe := &cobra.Command{
		Use:   "describe AGENT",
		Short: "Show an agent's parameters and advised timeouts, e.g. 'describe ocf:heartbeat:IPaddr2'",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name, err := cib.ParseAgent(args[0], nil)
			if err != nil {
				return usage("%v", err)
			}
			return g.with(func(cl *api.Client, cx context.Context) error {
				md, err := cl.Describe(cx, name)
				if err != nil {
					return err
				}
				if g.json {
					return g.printJSON(md)
				}
				printMetaData(g, name, md)
				return nil
			})
		},
	}
	addJSON(describe, g)
	var out []*cobra.Command
	out = append(out, list, describe)
	for _, op := range []string{"start", "stop", "monitor"} {
		out = append(out, debugCmd(g, op))
	}
	return out
}

func printMetaData(g *globals, name cib.AgentName, md *agents.MetaData) {
	g.printf("%s - %s\n", name, md.ShortDesc)
	if md.LongDesc != "" {
		g.printf("\n%s\n", strings.TrimSpace(md.LongDesc))
	}
	g.printf("\nResource options:\n")
	for _, p := range md.Parameters {
		var flags []string
		if p.Required {
			flags = append(flags, "required")
		}
		if p.Unique {
			flags = append(flags, "unique")
		}
		if p.Default != "" {
			flags = append(flags, "default: "+p.Default)
		}
		extra := ""
		if len(flags) > 0 {
			extra = " (" + strings.Join(flags, ", ") + ")"
		}
		g.printf("  %s%s: %s\n", p.Name, extra, oneLine(p.ShortDesc, p.LongDesc))
	}
	g.printf("\nDefault operations:\n")
	for _, a := range md.Actions {
		line := "  " + a.Name + ":"
		if a.Interval > 0 {
			line += " interval=" + a.Interval.String()
		}
		if a.Timeout > 0 {
			line += " timeout=" + a.Timeout.String()
		}
		g.printf("%s\n", line)
	}
}

func oneLine(parts ...string) string {
	for _, p := range parts {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			return p
		}
	}
	return ""
}

// debugCmd runs one action of a configured resource on this node, outside
// the cluster's control, and shows what the agent said ('pcs resource
// debug-start').
func debugCmd(g *globals, op string) *cobra.Command {
	var full bool
	c := &cobra.Command{
		Use:   "debug-" + op + " RESOURCE [--full]",
		Short: "Run the resource's " + op + " on this node now, outside the cluster's control, and show the agent's output",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			p := x.Config.Primitive(args[0])
			if p == nil {
				return usage("resource %q does not exist", args[0])
			}
			timeout := p.OpTimeout(op, 0, 20*time.Second)
			// The operation's own timeout bounds the request, not the
			// default one of an API call.
			return g.with(func(cl *api.Client, _ context.Context) error {
				cx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
				defer cancel()
				rec, err := cl.Execute(cx, resources.Action{Primitive: *p, Op: op, Timeout: timeout})
				if err != nil {
					return err
				}
				if g.json {
					return g.printJSON(rec)
				}
				g.printf("Operation %s for %s (%s) returned: '%s' (%d)\n", op, p.ID, p.Agent(), agents.Code(rec.RC), rec.RC)
				if full || rec.RC != 0 {
					if rec.Output != "" {
						g.printf("%s\n", rec.Output)
					}
					g.printf("exec time %d ms, op status %d\n", rec.ExecTimeMS, rec.OpStatus)
				}
				if rec.RC != 0 && !(op == "monitor" && rec.RC == 7) {
					return fmt.Errorf("%s %s failed with rc %d", op, p.ID, rec.RC)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&full, "full", false, "show the agent's whole output")
	addJSON(c, g)
	return c
}

// describe fetches an agent's meta-data from the node pcsctl talks to.
func (g *globals) describe(name cib.AgentName) (*agents.MetaData, error) {
	var md *agents.MetaData
	err := g.with(func(cl *api.Client, cx context.Context) (err error) {
		md, err = cl.Describe(cx, name)
		return err
	})
	return md, err
}
