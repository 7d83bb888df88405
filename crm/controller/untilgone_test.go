package controller

import (
	"context"
	"sync"
	"testing"
	"time"
)

type aliveSet struct {
	mu    sync.Mutex
	alive map[string]bool
}

func (a *aliveSet) Boots() map[string]string { return nil }

func (a *aliveSet) Alive() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]bool{}
	for n, up := range a.alive {
		out[n] = up
	}
	return out
}

// A node that leaves during the new DC's first probe ends its own
// probes only: the others' answers are what the probe is for.
func TestUntilGoneEndsOnlyTheLostNode(t *testing.T) {
	m := &aliveSet{alive: map[string]bool{"n1": true, "n2": true}}
	c := New(Config{Members: m})
	ctxs, stop := c.untilGone(context.Background(), []string{"n1", "n2", "n1"})
	defer stop()
	m.mu.Lock()
	m.alive["n1"] = false
	m.mu.Unlock()
	select {
	case <-ctxs["n1"].Done():
	case <-time.After(5 * time.Second):
		t.Fatal("n1 left gossip but its context did not end")
	}
	time.Sleep(150 * time.Millisecond)
	if err := ctxs["n2"].Err(); err != nil {
		t.Fatalf("n2 is alive but its context ended: %v", err)
	}
	stop()
	if ctxs["n2"].Err() == nil {
		t.Fatal("stop must end every node's context")
	}
}
