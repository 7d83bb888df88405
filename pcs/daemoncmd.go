package pcs

import (
	"os"

	"github.com/spf13/cobra"

	"pacer/daemon"
)

// daemonCmd runs pacerd inside pcsctl, so 'pcsctl demo' and 'cluster
// start' work from a single binary (e.g. under 'go run') when no pacerd
// binary is installed.
func daemonCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "daemon [pacerd flags]",
		Short:              "Run pacerd in the foreground (same flags as pacerd)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			os.Exit(daemon.Main(args, os.Stderr))
			return nil
		},
	}
}
