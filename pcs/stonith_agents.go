package pcs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/stonith/devices"
	"pacer/stonith/fencer"
)

// stonithAgentCmds are the stonith commands that look at this host's
// fence agents (as pcs does: it runs them where it runs) or write the
// CIB directly.
func stonithAgentCmds(g *globals) []*cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "List the fence agents available (fence_xvm and fence_libvirt built in, fence_* installed here)",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			agents := devices.Agents()
			if g.json {
				return g.printJSON(agents)
			}
			for _, a := range agents {
				g.printf("%s\n", a)
			}
			return nil
		},
	}
	addJSON(list, g)
	describe := &cobra.Command{
		Use:   "describe AGENT",
		Short: "Show a fence agent's parameters",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			md, err := devices.Describe(ctx, strings.TrimPrefix(args[0], "stonith:"))
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(md)
			}
			g.printf("%s - %s\n\nStonith options:\n", md.Name, md.ShortDesc)
			for _, p := range md.Parameters {
				flags := ""
				if p.Required {
					flags = " (required)"
				}
				if p.Content.Default != "" {
					flags += fmt.Sprintf(" (default: %s)", p.Content.Default)
				}
				g.printf("  %s%s: %s\n", p.Name, flags, oneLine(p.Description()))
			}
			return nil
		},
	}
	addJSON(describe, g)
	update := &cobra.Command{
		Use:   "update ID [NAME=VALUE...] [op ...] [meta ...]",
		Short: "Change a fencing device's parameters, operations or meta attributes",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			ra, problems := parseResourceArgs(args[1:])
			if err := problemsErr(problems); err != nil {
				return err
			}
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			if p := x.Config.Primitive(args[0]); p == nil || p.Class != "stonith" {
				return usage("%q is not a fencing device; 'pcsctl stonith config' lists them", args[0])
			}
			return g.applyAll([]store.Command{&store.UpdateResource{ID: args[0], Params: ra.params, Meta: ra.meta, Ops: ra.ops}})
		},
	}
	var force bool
	confirm := &cobra.Command{
		Use:   "confirm NODE --force",
		Short: "Tell the cluster a node is down (you powered it off yourself), so its resources may start elsewhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if !force {
				return usage("WARNING: if %s is not really powered off, its resources will run twice (data corruption, duplicate IPs). Check it yourself, then repeat with --force", args[0])
			}
			now := time.Now()
			ev := cib.FenceEvent{Target: args[0], Action: "off", Executor: "administrator", Origin: "pcsctl stonith confirm",
				Result: "ok", Error: "confirmed by hand, no device used", Start: now, Completion: now}
			err := g.applyAll([]store.Command{&store.RecordFenceAttempt{Events: []cib.FenceEvent{ev}}, &store.RecordFence{Node: args[0], At: now}})
			if ae := (*api.Error)(nil); errors.As(err, &ae) && ae.Code == api.CodeNoLeader {
				// A two-node survivor has no leader to write to: it
				// takes the confirmation itself and carries on alone.
				err = g.with(func(cl *api.Client, cx context.Context) error {
					return cl.Do(cx, http.MethodPost, "/v1/quorum/confirm-peer", api.FenceRequest{Node: args[0], Action: "off"}, nil)
				})
			}
			if err != nil {
				return err
			}
			g.printf("Node %s is now recorded as fenced (confirmed by hand)\n", args[0])
			return nil
		},
	}
	confirm.Flags().BoolVar(&force, "force", false, "I have checked that the node is powered off")
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Pre-flight: every device answers, and every node can be fenced by some device (fences nothing)",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			var checks []fencer.Check
			err := g.with(func(cl *api.Client, _ context.Context) error {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				return cl.Do(ctx, http.MethodPost, "/v1/stonith/verify", nil, &checks)
			})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(checks)
			}
			bad := 0
			for _, ch := range checks {
				mark := "OK  "
				if !ch.OK {
					mark, bad = "FAIL", bad+1
				}
				what := "device " + ch.Device
				if ch.Node != "" {
					what = "node " + ch.Node
				}
				if ch.Device == "" && ch.Node == "" {
					what = "fencing"
				}
				g.printf("%s %s: %s\n", mark, what, ch.Detail)
			}
			if bad > 0 {
				return fmt.Errorf("%d check(s) failed: fencing would not work for them", bad)
			}
			return nil
		},
	}
	addJSON(verify, g)
	return []*cobra.Command{list, describe, update, confirm, verify}
}
