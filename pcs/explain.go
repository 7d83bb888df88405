package pcs

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/crm/scheduler"
)

func explainCmd(g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "explain RESOURCE [--cib FILE]",
		Short: "Say why a resource runs where it does, or why it is stopped",
		Long: `Runs the scheduler on the live cluster's CIB (or on --cib FILE, as
'pcsctl simulate' reads it) and explains one resource in sentences built
from the score table: its score on every node and what made it (location
constraints, stickiness, colocations, fail counts against
migration-threshold, node states), and what the next transition does with
it. A group or clone explains each of its primitives.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usage("name one resource: pcsctl explain RESOURCE (pcsctl status lists them)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			var in scheduler.Input
			if file != "" {
				var err error
				if in, _, err = loadSimInput(file); err != nil {
					return err
				}
			} else {
				var err error
				if in, err = g.liveInput(); err != nil {
					return err
				}
			}
			exps, err := explainInput(in, args[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(exps)
			}
			for i, e := range exps {
				if i > 0 {
					g.printf("\n")
				}
				g.printf("%s", e.String())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "cib", "", "explain from a CIB file instead of the live cluster")
	addJSON(cmd, g)
	return cmd
}

// explainAll explains a primitive, or every primitive of a group or
// clone (clone instances as "id:N"; the cloned primitive's own id names
// all its instances).
func explainAll(tr *scheduler.Transition, id string) ([]*scheduler.Explanation, error) {
	e, err := tr.Explain(id)
	if err == nil {
		return []*scheduler.Explanation{e}, nil
	}
	if !errors.Is(err, scheduler.ErrUnknownResource) {
		return nil, err
	}
	var out []*scheduler.Explanation
	var names []string
	for _, r := range tr.Resources {
		names = append(names, r.ID)
		base, _, _ := strings.Cut(r.ID, ":")
		if r.Group == id || r.Clone == id || (r.Clone != "" && base == id) {
			x, err := tr.Explain(r.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		if len(names) > 12 {
			names = append(names[:12], "...")
		}
		return nil, usage("resource %q is not configured (primitives: %s)", id, strings.Join(names, ", "))
	}
	return out, nil
}

// liveInput is what the DC schedules now: the cluster's CIB, and quorum
// as this node sees it.
func (g *globals) liveInput() (scheduler.Input, error) {
	x, err := g.readCIB()
	if err != nil {
		return scheduler.Input{}, err
	}
	st, err := g.status()
	if err != nil {
		return scheduler.Input{}, err
	}
	return scheduler.Input{CIB: x, Quorum: st.DC != "", Now: time.Now().UTC()}, nil
}

// explainInput schedules in and explains the resource id in it.
func explainInput(in scheduler.Input, id string) ([]*scheduler.Explanation, error) {
	tr, err := scheduler.Schedule(in)
	if err != nil {
		return nil, err
	}
	return explainAll(tr, id)
}
