package pcs

import (
	"sort"

	"github.com/spf13/cobra"

	"pacer/crm/store"
)

func nodeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Standby, maintenance and attributes of nodes"}
	flag := func(use, short, attr, value string) *cobra.Command {
		var all bool
		c := &cobra.Command{
			Use:   use + " [NODE...]",
			Short: short,
			RunE: func(c *cobra.Command, args []string) error {
				nodes := args
				if all {
					x, err := g.readCIB()
					if err != nil {
						return err
					}
					nodes = nil
					for _, n := range x.Config.Nodes {
						nodes = append(nodes, n.Name)
					}
				}
				if len(nodes) == 0 {
					return usage("name the node(s), e.g. 'pcsctl node %s server1', or give --all", use)
				}
				var cmds []store.Command
				for _, n := range nodes {
					cmds = append(cmds, &store.SetNodeAttribute{Node: n, Name: attr, Value: value})
				}
				return g.applyAll(cmds)
			},
		}
		c.Flags().BoolVar(&all, "all", false, "every node")
		return c
	}
	attribute := &cobra.Command{
		Use:   "attribute [NODE [NAME=VALUE...]]",
		Short: "Show node attributes, or set them (an empty value removes one)",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) >= 2 {
				pairs, problems := parsePairs(args[1:], "rack=1")
				if err := problemsErr(problems); err != nil {
					return err
				}
				keys := make([]string, 0, len(pairs))
				for k := range pairs {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var cmds []store.Command
				for _, k := range keys {
					cmds = append(cmds, &store.SetNodeAttribute{Node: args[0], Name: k, Value: pairs[k]})
				}
				return g.applyAll(cmds)
			}
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			out := map[string]map[string]string{}
			for _, n := range x.Config.Nodes {
				if len(args) == 1 && n.Name != args[0] {
					continue
				}
				out[n.Name] = n.Attributes
			}
			if len(args) == 1 && len(out) == 0 {
				return usage("node %q is not in the cluster", args[0])
			}
			if g.json {
				return g.printJSON(out)
			}
			g.printf("Node Attributes:\n")
			names := make([]string, 0, len(out))
			for n := range out {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				g.printf("  %s:", n)
				keys := make([]string, 0, len(out[n]))
				for k := range out[n] {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					g.printf(" %s=%s", k, out[n][k])
				}
				g.printf("\n")
			}
			return nil
		},
	}
	addJSON(attribute, g)
	cmd.AddCommand(
		flag("standby", "Put nodes in standby: their resources move away", "standby", "on"),
		flag("unstandby", "Take nodes out of standby", "standby", ""),
		flag("maintenance", "Put nodes in maintenance: their resources are left alone, unmonitored", "maintenance", "on"),
		flag("unmaintenance", "Take nodes out of maintenance", "maintenance", ""),
		attribute,
	)
	return cmd
}
