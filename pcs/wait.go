package pcs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
)

// waitable are the commands that change placement; they take
// --wait[=TIMEOUT] and then return only when the cluster has settled.
var waitable = map[string]bool{
	"node standby": true, "node unstandby": true, "node maintenance": true, "node unmaintenance": true,
	"resource create": true, "resource delete": true, "resource update": true, "resource meta": true,
	"resource enable": true, "resource disable": true, "resource move": true, "resource ban": true,
	"resource clear": true, "resource cleanup": true, "resource group add": true, "resource group remove": true,
	"constraint location": true, "constraint colocation add": true, "constraint order": true, "constraint remove": true,
}

// addWait gives every waitable command under root a --wait flag.
func addWait(g *globals, root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		if !waitable[path] || c.RunE == nil {
			return
		}
		var wait string
		c.Flags().StringVar(&wait, "wait", "", "return only when the cluster has settled (default timeout 60s; e.g. --wait=2m)")
		c.Flags().Lookup("wait").NoOptDefVal = "60s"
		run := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			var d time.Duration
			if wait != "" {
				// Checked before anything is written.
				var err error
				if d, err = time.ParseDuration(wait); err != nil || d <= 0 {
					return usage("--wait=%q: give a duration such as 30s or 2m", wait)
				}
			}
			if err := run(cmd, args); err != nil || wait == "" {
				return err
			}
			if err := g.settle(d); err != nil || g.settled == nil {
				return err
			}
			return g.settled()
		}
	}
	walk(root)
}

// settle waits until the DC has acted on the last write and has nothing
// left to do, or reports what it is still doing when the time is up.
func (g *globals) settle(timeout time.Duration) error {
	if g.lastWrite == nil {
		return nil
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	var last *api.DCState
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := c.DC(ctx)
		cancel()
		if err == nil {
			last = st
			// The DC must have scheduled from a CIB that holds the write
			// (status changes such as cleanup count too).
			caughtUp := !st.Version.Less(g.lastWrite.Version)
			if st.Idle && caughtUp {
				if len(st.Blocked) > 0 {
					return fmt.Errorf("the cluster settled, but cannot do everything it should: %s", strings.Join(st.Blocked, "; "))
				}
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg := fmt.Sprintf("the cluster did not settle within %v", timeout)
	if last != nil {
		if len(last.Pending) > 0 {
			msg += "; still doing: " + strings.Join(last.Pending, ", ")
		}
		if len(last.Blocked) > 0 {
			msg += "; blocked: " + strings.Join(last.Blocked, "; ")
		}
		if last.LastError != "" {
			msg += "; last error: " + last.LastError
		}
	}
	return fmt.Errorf("%s", msg)
}
