package pcs

import (
	"github.com/spf13/cobra"

	"pacer/crm/store"
)

func groupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Group resources: members run together and start in order"}
	var before, after string
	add := &cobra.Command{
		Use:   "add GROUP RESOURCE...",
		Short: "Add resources to a group (created when missing), in the order given",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return g.applyAll([]store.Command{&store.GroupAdd{Group: args[0], Members: args[1:], Before: before, After: after}})
		},
	}
	add.Flags().StringVar(&before, "before", "", "insert before this member")
	add.Flags().StringVar(&after, "after", "", "insert after this member")
	remove := &cobra.Command{
		Use:     "remove GROUP [RESOURCE...]",
		Aliases: []string{"ungroup"},
		Short:   "Take resources out of a group (all of them when none is named)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.applyAll([]store.Command{&store.GroupRemove{Group: args[0], Members: args[1:]}})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List groups and their members",
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			out := map[string][]string{}
			var order []string
			for _, r := range x.Config.Resources {
				if r.Group == nil {
					continue
				}
				order = append(order, r.Group.ID)
				for _, m := range r.Group.Members {
					out[r.Group.ID] = append(out[r.Group.ID], m.ID)
				}
			}
			if g.json {
				return g.printJSON(out)
			}
			for _, id := range order {
				g.printf("%s:", id)
				for _, m := range out[id] {
					g.printf(" %s", m)
				}
				g.printf("\n")
			}
			return nil
		},
	}
	addJSON(list, g)
	cmd.AddCommand(add, remove, list)
	return cmd
}
