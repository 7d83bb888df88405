package pcs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
)

func stonithCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "stonith", Short: "Fencing devices, levels, fencing a node and the fence history"}
	var disabled bool
	create := &cobra.Command{
		Use:   "create ID AGENT [NAME=VALUE...] [op ...] [meta ...]",
		Short: "Create a fencing device, e.g. 'create vmfence fence_xvm pcmk_host_map=\"server1:server1;server4:server4\"'",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var problems []string
			if msg := cib.CheckID(args[0]); msg != "" {
				problems = append(problems, "device "+msg)
			}
			agent := strings.TrimPrefix(args[1], "stonith:")
			if !strings.HasPrefix(agent, "fence_") {
				problems = append(problems, fmt.Sprintf("%q is not a fence agent: use fence_xvm, fence_libvirt or an installed fence_* agent ('pcsctl stonith list')", args[1]))
			}
			ra, more := parseResourceArgs(args[2:])
			problems = append(problems, more...)
			if err := problemsErr(problems); err != nil {
				return err
			}
			if disabled {
				ra.meta["target-role"] = "Stopped"
			}
			p := cib.Primitive{ID: args[0], Class: "stonith", Type: agent, Params: nilIfEmpty(ra.params), Meta: nilIfEmpty(ra.meta), Ops: ra.ops}
			if !hasOp(p.Ops, "monitor") {
				p.Ops = append(p.Ops, cib.Op{Name: "monitor", Interval: "60s"})
			}
			return g.applyAll([]store.Command{&store.CreateResource{Primitive: p}})
		},
	}
	create.Flags().BoolVar(&disabled, "disabled", false, "create it disabled (not used for fencing)")
	var off, on bool
	fence := &cobra.Command{
		Use:   "fence NODE [--off | --on]",
		Short: "Fence a node now (reboot, power off with --off, power on again with --on) and record it",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			action := "reboot"
			switch {
			case off && on:
				return fmt.Errorf("give --off or --on, not both")
			case off:
				action = "off"
			case on:
				action = "on"
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			r, err := cl.Fence(ctx, api.FenceRequest{Node: args[0], Action: action})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(r)
			}
			if r.Action == "on" {
				g.printf("Node: %s powered on\n", r.Target)
			} else {
				g.printf("Node: %s fenced (%s)\n", r.Target, r.Action)
			}
			for _, a := range r.Attempts {
				g.printf("  %s via %s: %s in %v\n", a.Action, a.Device, a.Result, a.Duration.Round(time.Millisecond))
			}
			return nil
		},
	}
	fence.Flags().BoolVar(&off, "off", false, "power the node off instead of rebooting it")
	fence.Flags().BoolVar(&on, "on", false, "power a fenced node on again (stonith_admin --unfence)")
	addJSON(fence, g)
	history := &cobra.Command{
		Use:   "history [show] [NODE]",
		Short: "Show the fence history (who fenced whom, with which device, how it ended)",
		Args:  cobra.MaximumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "show" {
				args = args[1:]
			}
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			var evs []cib.FenceEvent
			for _, e := range x.FenceHistory {
				if len(args) == 0 || e.Target == args[0] {
					evs = append(evs, e)
				}
			}
			if g.json {
				if evs == nil {
					evs = []cib.FenceEvent{}
				}
				return g.printJSON(evs)
			}
			if len(evs) == 0 {
				g.printf("No fencing has been done\n")
			}
			for i := len(evs) - 1; i >= 0; i-- {
				e := evs[i]
				line := fmt.Sprintf("%s of %s by %s (device %s, asked by %s): %s at %s after %v",
					e.Action, e.Target, e.Executor, e.Device, e.Origin, e.Result, e.Completion.Format("2006-01-02 15:04:05"), e.Duration.Round(time.Millisecond))
				if e.Error != "" {
					line += ": " + e.Error
				}
				g.printf("  * %s\n", line)
			}
			return nil
		},
	}
	addJSON(history, g)
	level := &cobra.Command{Use: "level", Short: "Fencing topology: levels are tried in order; every device of a level must succeed"}
	levelAdd := &cobra.Command{
		Use:   "add LEVEL NODE DEVICE[,DEVICE...]",
		Short: "Add a fencing level (1-9) for a node",
		Args:  cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			idx, err := strconv.Atoi(args[0])
			if err != nil {
				return usage("level %q must be a number from 1 to 9", args[0])
			}
			return g.applyAll([]store.Command{&store.AddFencingLevel{Level: cib.FencingLevel{Target: args[1], Index: idx, Devices: strings.Split(args[2], ",")}}})
		},
	}
	levelRemove := &cobra.Command{
		Use:   "remove LEVEL [NODE]",
		Short: "Remove a fencing level (of one node, or of every node)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			idx, err := strconv.Atoi(args[0])
			if err != nil {
				return usage("level %q must be a number from 1 to 9", args[0])
			}
			node := ""
			if len(args) == 2 {
				node = args[1]
			}
			return g.applyAll([]store.Command{&store.RemoveFencingLevel{Index: idx, Target: node}})
		},
	}
	levelConfig := &cobra.Command{
		Use:   "config",
		Short: "Show the fencing levels",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(x.Config.FencingLevels)
			}
			for _, l := range x.Config.FencingLevels {
				g.printf("Target: %s\n  Level %d - %s\n", l.Target, l.Index, strings.Join(l.Devices, ","))
			}
			return nil
		},
	}
	addJSON(levelConfig, g)
	level.AddCommand(levelAdd, levelRemove, levelConfig)
	config := &cobra.Command{
		Use:   "config",
		Short: "Show the fencing devices' configuration",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			var devs []cib.Resource
			for _, p := range x.Config.Primitives() {
				if p.Class == "stonith" {
					devs = append(devs, cib.Resource{Primitive: p})
				}
			}
			if g.json {
				return g.printJSON(devs)
			}
			if len(devs) == 0 {
				g.printf("No fencing devices configured\n")
			}
			for _, r := range devs {
				printResourceConfig(g, r)
			}
			return nil
		},
	}
	addJSON(config, g)
	del := &cobra.Command{
		Use:     "delete ID",
		Aliases: []string{"remove"},
		Short:   "Delete a fencing device (and drop it from fencing levels)",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.applyAll([]store.Command{&store.DeleteResource{ID: args[0]}})
		},
	}
	cmd.AddCommand(create, del, fence, history, level, config, stonithStatusCmd(g))
	cmd.AddCommand(stonithAgentCmds(g)...)
	return cmd
}
