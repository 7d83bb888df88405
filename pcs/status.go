package pcs

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
)

func (g *globals) status() (*api.StatusResponse, error) {
	var st *api.StatusResponse
	return st, g.with(func(c *api.Client, cx context.Context) (err error) {
		st, err = c.Status(cx)
		return err
	})
}

func statusCmd(g *globals) *cobra.Command {
	var watch bool
	var out statusOutput
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster: DC, quorum, nodes and resources (crm_mon style)",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(g); err != nil {
				return err
			}
			if watch {
				if out.as != "text" {
					return usage("--watch redraws text; it does not go with --json or --output-as %s", out.as)
				}
				cl, err := g.client()
				if err != nil {
					return err
				}
				defer cl.Close()
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return watchStatus(ctx, g, cl, out.view(), isTerminal(os.Stdout), func() {
					g.printf("\n%s  redrawn on every change; Ctrl-C quits\n", time.Now().Format("15:04:05"))
				})
			}
			st, err := g.status()
			if err != nil {
				return err
			}
			return out.print(g, st, requestLine())
		},
	}
	addJSON(cmd, g)
	addStatusOutput(cmd, &out)
	cmd.Flags().BoolVar(&watch, "watch", false, "redraw whenever the cluster changes, until Ctrl-C")
	return cmd
}

func printResources(w io.Writer, rs []api.ResourceStatus) {
	group := ""
	for _, r := range rs {
		indent := "  "
		if r.Group != "" {
			if r.Group != group {
				fmt.Fprintf(w, "  * Resource Group: %s:\n", r.Group)
			}
			indent = "    "
		}
		group = r.Group
		state := r.Role
		if r.Node != "" {
			state += " " + r.Node
		}
		var flags []string
		if r.TargetRole == "Stopped" {
			flags = append(flags, "disabled")
		}
		if !r.Managed {
			flags = append(flags, "unmanaged")
		}
		if len(flags) > 0 {
			state += " (" + strings.Join(flags, ", ") + ")"
		}
		fmt.Fprintf(w, "%s* %s\t(%s):\t %s\n", indent, r.ID, r.Agent, state)
	}
}
