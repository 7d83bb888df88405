package pcs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/scheduler"
)

func simulateCmd(g *globals) *cobra.Command {
	var file, now string
	var scores bool
	cmd := &cobra.Command{
		Use:   "simulate --cib FILE.xml [--json] [--show-scores]",
		Short: "Show what the scheduler would do with a saved CIB (no cluster needed)",
		Long: `Reads a CIB from a file — a Pacemaker CIB as 'cibadmin --query' prints it,
or what 'pcsctl cib export --xml' or '--json' writes — runs one transition
assuming every action succeeds, and prints it like crm_simulate: node
states, the transition summary, the steps in order, where everything runs
afterwards. Nothing is read from or sent to a cluster.

Quorum and time come from the file (have-quorum and execution-date of
<cib>, or "quorum" and "now" of a JSON input); a file without a time is
simulated at the current time, or at --now.`,
		Args: noArgs("give the file with --cib FILE.xml"),
		RunE: func(c *cobra.Command, args []string) error {
			if file == "" {
				return usage("name the CIB to simulate: pcsctl simulate --cib FILE.xml (on a Pacemaker cluster: cibadmin --query > FILE.xml)")
			}
			in, from, err := loadSimInput(file)
			if err != nil {
				return err
			}
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return usage("--now %q: use RFC 3339, e.g. 2026-03-01T12:00:00Z", now)
				}
				in.Now, from = t.UTC(), "--now"
			}
			tr, err := scheduler.Schedule(in)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			warnConfig(g, in.CIB)
			if g.json {
				return g.printJSON(simulateJSON(tr))
			}
			g.printf("Simulating %s: CIB %s, %s, at %s (%s)\n\n", file, in.CIB.Version,
				map[bool]string{true: "quorum", false: "no quorum"}[in.Quorum], in.Now.Format("2006-01-02 15:04:05Z07:00"), from)
			g.printf("%s", tr.Summary(scores))
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "cib", "", "the CIB file: Pacemaker XML, or pacer JSON (.json)")
	cmd.Flags().BoolVar(&scores, "show-scores", false, "print every primitive's score on every node (crm_simulate -s)")
	cmd.Flags().StringVar(&now, "now", "", "simulate at this time (RFC 3339) instead of the file's")
	addJSON(cmd, g)
	return cmd
}

// simulateOutput is the `pcsctl simulate --json` document: the format
// tag and the transition's own keys (placement, fencing, actions, steps,
// and the details behind them).
type simulateOutput struct {
	Format string `json:"format"`
	*scheduler.Transition
}

// simulateJSON fills the lists the format promises as arrays, never null.
func simulateJSON(tr *scheduler.Transition) simulateOutput {
	if tr.Fencing == nil {
		tr.Fencing = []string{}
	}
	if tr.Actions == nil {
		tr.Actions = []scheduler.Action{}
	}
	if tr.Steps == nil {
		tr.Steps = []scheduler.Step{}
	}
	return simulateOutput{Format: scheduler.SimulateFormat, Transition: tr}
}

// loadSimInput reads a scheduler input from a file: Pacemaker CIB XML,
// or JSON (a CIB, 'pcsctl cib export --json' output, or a scheduler test
// input with "cib", "quorum" and "now"). It also says where the time
// came from.
func loadSimInput(file string) (scheduler.Input, string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return scheduler.Input{}, "", err
	}
	in := scheduler.Input{Quorum: true, Now: time.Now().UTC()}
	from := "now"
	if t := bytes.TrimSpace(b); strings.HasSuffix(file, ".json") || (len(t) > 0 && t[0] == '{') {
		var raw struct {
			CIB    *cib.CIB `json:"cib"`
			Quorum *bool    `json:"quorum"`
			Now    string   `json:"now"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			return in, "", fmt.Errorf("%s: not a JSON CIB: %w", file, err)
		}
		if raw.CIB == nil {
			var c cib.CIB
			if err := json.Unmarshal(b, &c); err != nil {
				return in, "", fmt.Errorf("%s: not a JSON CIB: %w", file, err)
			}
			raw.CIB = &c
		}
		if raw.Quorum != nil {
			in.Quorum = *raw.Quorum
		}
		if raw.Now != "" {
			t, err := time.Parse(time.RFC3339, raw.Now)
			if err != nil {
				return in, "", fmt.Errorf("%s: now %q: %w", file, raw.Now, err)
			}
			in.Now, from = t.UTC(), "the file's time"
		}
		in.CIB = raw.CIB
	} else {
		c, h, err := cib.ImportXML(b)
		if err != nil {
			return in, "", xmlErr(file, err)
		}
		in.CIB, in.Quorum = c, h.HaveQuorum
		if !h.ExecutionDate.IsZero() {
			in.Now, from = h.ExecutionDate, "execution-date of the file"
		}
	}
	if in.CIB.Status.Nodes == nil {
		in.CIB.Status.Nodes = map[string]*cib.NodeStatus{}
	}
	return in, from, nil
}

// warnConfig prints, on stderr, what pacer would refuse in the
// configuration (a Pacemaker CIB may carry options pacer does not know);
// the simulation itself goes on, as crm_simulate's does.
func warnConfig(g *globals, c *cib.CIB) {
	for _, p := range c.Config.Validate() {
		fmt.Fprintf(g.errOut, "Warning: %s\n", p)
	}
}
