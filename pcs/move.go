package pcs

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/store"
)

// Constraints made by move and ban carry crm_resource's id prefixes, so
// 'resource clear' (and Pacemaker tools) know them as temporary.
const (
	preferPrefix = "cli-prefer-"
	banPrefix    = "cli-ban-"
)

func moveCmds(g *globals) []*cobra.Command {
	move := &cobra.Command{
		Use:   "move RESOURCE [NODE]",
		Short: "Move a resource to NODE (or away from where it runs); adds a cli-prefer/cli-ban constraint that 'resource clear' removes",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			rsc := args[0]
			if len(args) == 2 {
				g.settled = func() error { return g.movedTo(rsc, args[1]) }
				return g.applyAll([]store.Command{
					&store.RemoveConstraintsMatching{Prefix: preferPrefix + rsc, Exact: true},
					&store.AddConstraint{Location: &cib.Location{ID: preferPrefix + rsc, Resource: rsc, Node: args[1], Score: "INFINITY"}},
				})
			}
			node, err := g.runningOn(rsc)
			if err != nil {
				return err
			}
			if err := g.applyAll([]store.Command{&store.AddConstraint{Location: &cib.Location{ID: banPrefix + rsc + "-on-" + node, Resource: rsc, Node: node, Score: "-INFINITY"}}}); err != nil {
				return err
			}
			g.printf("%s is banned from %s, where it ran; 'pcsctl resource clear %s' lets it back\n", rsc, node, rsc)
			return nil
		},
	}
	ban := &cobra.Command{
		Use:   "ban RESOURCE [NODE]",
		Short: "Keep a resource off NODE (default: where it runs now) until 'resource clear'",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			rsc := args[0]
			node := ""
			if len(args) == 2 {
				node = args[1]
			} else {
				var err error
				if node, err = g.runningOn(rsc); err != nil {
					return err
				}
			}
			return g.applyAll([]store.Command{&store.AddConstraint{Location: &cib.Location{ID: banPrefix + rsc + "-on-" + node, Resource: rsc, Node: node, Score: "-INFINITY"}}})
		},
	}
	clear := &cobra.Command{
		Use:   "clear RESOURCE",
		Short: "Remove the constraints 'resource move' and 'resource ban' added",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			rsc := args[0]
			return g.applyAll([]store.Command{
				&store.RemoveConstraintsMatching{Prefix: preferPrefix + rsc, Exact: true},
				&store.RemoveConstraintsMatching{Prefix: banPrefix + rsc + "-on-"},
			})
		},
	}
	var node string
	cleanup := &cobra.Command{
		Use:   "cleanup [RESOURCE] [--node NODE]",
		Short: "Forget failures (fail counts, failed operations) so the cluster tries again",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			rsc := ""
			if len(args) == 1 {
				rsc = args[0]
			}
			if err := g.applyAll([]store.Command{&store.ClearFailures{Resource: rsc, Node: node}}); err != nil {
				return err
			}
			what := "all resources"
			if rsc != "" {
				what = rsc
			}
			where := "every node"
			if node != "" {
				where = node
			}
			g.printf("Cleaned up %s on %s\n", what, where)
			return nil
		},
	}
	cleanup.Flags().StringVar(&node, "node", "", "only on this node")
	var restartWait string
	restart := &cobra.Command{
		Use:   "restart RESOURCE [--wait=TIMEOUT]",
		Short: "Stop a resource (a group: all its members, in reverse order) and start it again",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			rsc := args[0]
			timeout, err := time.ParseDuration(restartWait)
			if err != nil || timeout <= 0 {
				return usage("--wait=%q: give a duration such as 30s or 2m", restartWait)
			}
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			if !x.Config.ResourceIDs()[rsc] {
				return usage("resource %q does not exist", rsc)
			}
			if targetRole(x, rsc) == "Stopped" {
				return usage("%s is disabled (target-role=Stopped): 'pcsctl resource enable %s' starts it", rsc, rsc)
			}
			if err := g.applyAll([]store.Command{&store.UpdateResource{ID: rsc, Meta: map[string]string{"target-role": "Stopped"}}}); err != nil {
				return err
			}
			stopErr := g.settle(timeout)
			// Start it again even if the stop did not settle in time, so a
			// restart never leaves a resource disabled.
			if err := g.applyAll([]store.Command{&store.UpdateResource{ID: rsc, Meta: map[string]string{"target-role": ""}}}); err != nil {
				return err
			}
			if stopErr != nil {
				return fmt.Errorf("stopping %s: %w (it has been enabled again)", rsc, stopErr)
			}
			if err := g.settle(timeout); err != nil {
				return err
			}
			g.printf("%s restarted\n", rsc)
			return nil
		},
	}
	restart.Flags().StringVar(&restartWait, "wait", "60s", "how long each of stop and start may take")
	return []*cobra.Command{move, ban, clear, cleanup, restart}
}

// movedTo checks, after --wait, that a moved resource runs on node. The
// cluster can settle with it elsewhere: a fail count at
// migration-threshold or a ban outweighs the move's INFINITY. pcs then
// exits non-zero too.
func (g *globals) movedTo(rsc, node string) error {
	var on string
	var err error
	// The status is this node's copy, a replication round behind the
	// DC at worst.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if on, err = g.runningOn(rsc); err == nil && on == node {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s did not move to %s: %w; 'pcsctl explain %s' says why", rsc, node, err, rsc)
	}
	return fmt.Errorf("%s did not move to %s: the cluster settled with it on %s; 'pcsctl explain %s' says why", rsc, node, on, rsc)
}

// runningOn returns the one node a resource (or a group's first member)
// runs on, or an error saying how to name the node.
func (g *globals) runningOn(rsc string) (string, error) {
	st, err := g.status()
	if err != nil {
		return "", err
	}
	var nodes []string
	found := false
	for _, r := range st.Resources {
		if r.ID == rsc || r.Group == rsc || r.Clone == rsc {
			found = true
			if r.Node != "" && !contains(nodes, r.Node) {
				nodes = append(nodes, r.Node)
			}
		}
	}
	switch {
	case !found:
		return "", usage("resource %q does not exist", rsc)
	case len(nodes) == 0:
		return "", usage("%s is not running anywhere: name the node", rsc)
	case len(nodes) > 1:
		return "", usage("%s runs on %s: name the node", rsc, strings.Join(nodes, ", "))
	}
	return nodes[0], nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// targetRole is the effective target-role of a resource id (its own meta).
func targetRole(x *cib.CIB, id string) string {
	if p := x.Config.Primitive(id); p != nil {
		return p.Meta["target-role"]
	}
	for _, r := range x.Config.Resources {
		switch {
		case r.Group != nil && r.Group.ID == id:
			return r.Group.Meta["target-role"]
		case r.Clone != nil && r.Clone.ID == id:
			return r.Clone.Meta["target-role"]
		}
	}
	return ""
}
