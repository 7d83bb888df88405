package pcs

import (
	"context"

	"github.com/spf13/cobra"

	"pacer/api"
)

func cibCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cib", Short: "Export the cluster information base, or import a Pacemaker one"}
	var asJSON, asXML bool
	export := &cobra.Command{
		Use:   "export --json|--xml",
		Short: "Print the whole CIB (configuration and status)",
		Long: `Prints the whole CIB, configuration and status: --json as the API serves
it, --xml as a Pacemaker CIB document (validate-with pacemaker-3.x) that
crm_verify -x accepts and 'pcsctl simulate --cib' and crm_simulate -x read.`,
		Args: noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case asJSON && asXML:
				return usage("choose one format: --json or --xml")
			case asXML:
				return g.exportXML()
			case !asJSON:
				return usage("choose a format: --json or --xml")
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
	export.Flags().BoolVar(&asXML, "xml", false, "Pacemaker CIB XML")
	cmd.AddCommand(export, cibImportCmd(g))
	return cmd
}
