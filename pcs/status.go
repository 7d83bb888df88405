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

	"pacer/agents"
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
			if watch {
				if g.json {
					return usage("--watch and --json do not go together")
				}
				cl, err := g.client()
				if err != nil {
					return err
				}
				defer cl.Close()
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return watchStatus(ctx, g, cl, isTerminal(os.Stdout), func() {
					g.printf("\n%s  redrawn on every change; Ctrl-C quits\n", time.Now().Format("15:04:05"))
				})
			}
			if err := out.check(g); err != nil {
				return err
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

// PrintStatus renders a status the way crm_mon lays it out, with the
// notes that explain anything unusual.
func PrintStatus(w io.Writer, st *api.StatusResponse) {
	fmt.Fprintf(w, "Cluster name: %s\n", st.ClusterName)
	fmt.Fprintf(w, "Cluster Summary:\n")
	if st.DC != "" {
		fmt.Fprintf(w, "  * Current DC: %s - partition with quorum\n", st.DC)
	} else {
		fmt.Fprintf(w, "  * Current DC: NONE - partition WITHOUT quorum\n")
	}
	fmt.Fprintf(w, "  * CIB version %s (raft index %d), as seen by %s\n", st.Version, st.Index, st.Node)
	if t := st.TwoNode; t != nil {
		fmt.Fprintf(w, "  * Two-node mode (peer %s):\n", t.Peer)
		printTwoNode(w, "    ", t)
	}
	if t := st.Transition; t != nil {
		switch {
		case len(t.Pending) > 0:
			fmt.Fprintf(w, "  * Transition: %d action(s) running: %s\n", len(t.Pending), strings.Join(t.Pending, ", "))
		case t.LastError != "":
			fmt.Fprintf(w, "  * Transition: failed: %s\n", t.LastError)
		case t.Idle:
			fmt.Fprintf(w, "  * Transition: idle (everything is where it should be)\n")
		}
	}
	fmt.Fprintf(w, "  * %d nodes configured\n", len(st.Nodes))
	fmt.Fprintf(w, "  * %d resource instances configured\n", len(st.Resources))
	fmt.Fprintf(w, "\nNode List:\n")
	byState := map[string][]string{}
	for _, n := range st.Nodes {
		label := n.Name
		if n.Raft == "nonvoter" {
			label += "(non-voter)"
		}
		byState[n.State] = append(byState[n.State], label)
	}
	for _, s := range []struct{ key, title string }{{"online", "Online"}, {"standby", "Node standby"}, {"maintenance", "Node maintenance"}, {"offline", "OFFLINE"}} {
		if names := byState[s.key]; len(names) > 0 {
			fmt.Fprintf(w, "  * %s: [ %s ]\n", s.title, strings.Join(names, " "))
		}
	}
	fmt.Fprintf(w, "\nFull List of Resources:\n")
	if len(st.Resources) == 0 {
		fmt.Fprintf(w, "  * No resources\n")
	}
	printResources(w, st.Resources)
	if len(st.Failures) > 0 {
		fmt.Fprintf(w, "\nFailed Resource Actions:\n")
		for _, f := range st.Failures {
			op := f.Op
			if f.IntervalMS > 0 {
				op = fmt.Sprintf("%s_%d", f.Op, f.IntervalMS)
			}
			fmt.Fprintf(w, "  * %s_%s on %s '%s' (%d): status=%s, last-rc-change=%s", f.Resource, op, f.Node, agents.Code(f.RC), f.RC, f.Status, f.At.Format("2006-01-02 15:04:05Z07:00"))
			if f.FailCount != "" {
				fmt.Fprintf(w, ", fail-count=%s", f.FailCount)
			}
			if f.Reason != "" {
				fmt.Fprintf(w, ", '%s'", f.Reason)
			}
			fmt.Fprintf(w, "\n")
		}
		fmt.Fprintf(w, "  ('pcsctl resource cleanup RESOURCE' clears these)\n")
	}
	if len(st.Notes) > 0 {
		fmt.Fprintf(w, "\nNotes:\n")
		for _, n := range st.Notes {
			fmt.Fprintf(w, "  * %s\n", n)
		}
	}
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
