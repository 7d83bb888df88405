package pcs

import (
	"context"
	"fmt"
	"time"

	"pacer/api"
	"pacer/pcs/mon"
)

// watchStatus shows the status and redraws it on every change the node
// streams (no polling). On a lost connection it says so and reconnects
// every second. footer is printed under each screen.
func watchStatus(ctx context.Context, g *globals, cl *api.Client, view mon.Options, clear bool, footer func()) error {
	show := func(note string) {
		cx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		st, err := cl.Status(cx)
		if clear {
			g.printf("\033[H\033[2J")
		}
		if err != nil {
			g.printf("Cannot read the status: %v\n", err)
		} else {
			printStatusText(g.out, st, view)
		}
		if note != "" {
			g.printf("\n%s\n", note)
		}
		if footer != nil {
			footer()
		}
	}
	for ctx.Err() == nil {
		events, err := cl.Watch(ctx)
		if err != nil {
			show(fmt.Sprintf("%s  connection lost (%v); reconnecting...", time.Now().Format("15:04:05"), err))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for ev := range events {
			if ev.Type == "ping" {
				continue
			}
			show("")
		}
	}
	return nil
}
