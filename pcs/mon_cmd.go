package pcs

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"pacer/pcs/mon"
)

func monCmd(g *globals) *cobra.Command {
	var once bool
	var out statusOutput
	cmd := &cobra.Command{
		Use:   "mon [-1]",
		Short: "Watch the cluster live (crm_mon); -1 prints the status once",
		Long: `Shows the cluster on a full screen and redraws it the moment pacerd
reports a change (it streams them; nothing polls): the DC and quorum, a
loud banner when the cluster runs unsafe, nodes, resources, what blocks
a resource and the fencing it waits for, failed actions, fence history
and the last 20 events.

Keys: ? help, q quit, / filter, n r f fold nodes / resources / failures
and fencing, a node attributes, i inactive resources, up/down select a
resource, e explain it. A lost connection is shown and retried.

With -1 (or when stdout is not a terminal) it prints the same view once,
as 'pcsctl status' does; --output-as json|xml prints it for scripts.`,
		Args: noArgs("pcsctl mon takes options only"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(g); err != nil {
				return err
			}
			if once || out.as != "text" || !isTerminal(os.Stdout) {
				st, err := g.status()
				if err != nil {
					return err
				}
				return out.print(g, st, requestLine())
			}
			return runMon(g, out.view(), c.Flags().Changed("inactive"))
		},
	}
	cmd.Flags().BoolVarP(&once, "one-shot", "1", false, "print the status once and exit")
	addStatusOutput(cmd, &out)
	addJSON(cmd, g)
	return cmd
}

// runMon runs the live screen. -A shows node attributes at once; the
// screen hides inactive resources (key i) unless --inactive is given.
func runMon(g *globals, view mon.Options, inactiveGiven bool) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	// The screen shows the watched node's own copy: its watch stream says
	// when that copy changed, and a consistent read would add a round
	// trip to the leader to every redraw.
	cl.Consistent = false
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Warnings printed while the screen is up would tear it.
	quiet := *g
	quiet.errOut = io.Discard
	m := mon.NewModel(cl.Target, quiet.explainText, nil)
	m = m.WithView(view.NodeAttrs, !inactiveGiven || view.HideInactive)
	p := tea.NewProgram(m, tea.WithContext(ctx))
	go mon.Feed(ctx, cl, mon.DefaultBackoff, func(msg any) { p.Send(msg) })
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// explainText is 'pcsctl explain ID' as text, for the screen's e key.
func (g *globals) explainText(id string) (string, error) {
	in, err := g.liveInput()
	if err != nil {
		return "", err
	}
	exps, err := explainInput(in, id)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, e := range exps {
		parts = append(parts, e.String())
	}
	return strings.Join(parts, "\n"), nil
}
