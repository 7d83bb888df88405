package pcs

import (
	"context"
	"fmt"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
)

// with runs f with a client for the selected node and a bounded context.
func (g *globals) with(f func(c *api.Client, cx context.Context) error) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	cx, cancel := ctx()
	defer cancel()
	return f(c, cx)
}

// applyAll sends the changes one command line makes as one atomic batch:
// either all are written or none.
func (g *globals) applyAll(cmds []store.Command) error {
	cmd := cmds[0]
	if len(cmds) > 1 {
		b, err := store.NewBatch(cmds...)
		if err != nil {
			return err
		}
		cmd = b
	}
	return g.with(func(c *api.Client, cx context.Context) error {
		r, err := c.Apply(cx, cmd)
		if err == nil {
			g.lastWrite = r
		}
		return err
	})
}

func (g *globals) readCIB() (*cib.CIB, error) {
	var x *cib.CIB
	return x, g.with(func(c *api.Client, cx context.Context) error {
		r, err := c.CIB(cx, 0)
		if err == nil {
			x = r.CIB
			if r.Stale != "" {
				fmt.Fprintf(g.errOut, "Warning: %s\n", r.Stale)
			}
		}
		return err
	})
}
