package pcs

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"pacer/api"
)

func quorumCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "quorum", Short: "Show quorum and two-node mode; lift wait-for-all"}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show who leads, the Raft votes, and two-node mode's fence race",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := g.status()
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(struct {
					Quorum  bool               `json:"quorum"`
					DC      string             `json:"dc"`
					Voters  []string           `json:"voters"`
					TwoNode *api.TwoNodeStatus `json:"two_node,omitempty"`
				}{st.Quorum, st.DC, voters(st), st.TwoNode})
			}
			printQuorum(g.out, st)
			return nil
		},
	}
	addJSON(status, g)
	var force bool
	unblock := &cobra.Command{
		Use:   "unblock --force",
		Short: "Let a two-node node that has not seen its peer since it started take over (lifts wait-for-all on this node)",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			if !force {
				return usage("WARNING: if the peer is running and only unreachable, this node will fence it and take its resources. Check the peer, then repeat with --force")
			}
			var out *api.TwoNodeStatus
			err := g.with(func(cl *api.Client, cx context.Context) error {
				return cl.Do(cx, http.MethodPost, "/v1/quorum/unblock", nil, &out)
			})
			if err != nil {
				return err
			}
			g.printf("wait-for-all lifted on this node")
			if out != nil {
				g.printf(": %s", out.Reason)
			}
			g.printf("\n")
			return nil
		},
	}
	unblock.Flags().BoolVar(&force, "force", false, "I have checked that the peer is not running the cluster's resources")
	cmd.AddCommand(status, unblock)
	return cmd
}

func voters(st *api.StatusResponse) []string {
	var v []string
	for _, n := range st.Nodes {
		if n.Raft == "voter" {
			v = append(v, n.Name)
		}
	}
	return v
}

// printQuorum is 'pcsctl quorum status'.
func printQuorum(w io.Writer, st *api.StatusResponse) {
	if st.Quorum {
		fmt.Fprintf(w, "Quorate: yes (DC %s)\n", st.DC)
	} else {
		fmt.Fprintf(w, "Quorate: NO (no leader seen by %s)\n", st.Node)
	}
	fmt.Fprintf(w, "Voters: %d %v\n", len(voters(st)), voters(st))
	t := st.TwoNode
	if t == nil {
		fmt.Fprintf(w, "Two-node mode: off\n")
		return
	}
	fmt.Fprintf(w, "Two-node mode: on (peer of %s: %s)\n", st.Node, t.Peer)
	printTwoNode(w, "", t)
}

// printTwoNode prints the fence race and this node's two-node state.
func printTwoNode(w io.Writer, indent string, t *api.TwoNodeStatus) {
	fmt.Fprintf(w, "%sFence race: %s fences at once, %s waits %s (%s)\n", indent, t.Winner, t.Loser, t.LoserDelay, t.TieReason)
	if !t.WaitForAllMet {
		fmt.Fprintf(w, "%sWait-for-all: the peer has not been seen since this node started\n", indent)
	}
	if t.Step != "idle" {
		fmt.Fprintf(w, "%sTwo-node state: %s: %s\n", indent, t.Step, t.Reason)
	}
	if t.LastFenceError != "" {
		fmt.Fprintf(w, "%sLast fence of the peer failed: %s\n", indent, t.LastFenceError)
	}
}
