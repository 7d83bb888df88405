package pcs

import (
	"context"

	"github.com/spf13/cobra"

	"pacer/api"
)

func cibCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cib", Short: "Export the cluster information base"}
	var asJSON bool
	export := &cobra.Command{
		Use:   "export --json",
		Short: "Print the whole CIB (configuration and status)",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			if !asJSON {
				return usage("choose a format: --json")
			}
			return g.with(func(cl *api.Client, cx context.Context) error {
				r, err := cl.CIB(cx, 0)
				if err != nil {
					return err
				}
				return g.printJSON(r)
			})
		},
	}
	export.Flags().BoolVar(&asJSON, "json", false, "JSON, as the API serves it")
	cmd.AddCommand(export)
	return cmd
}
