package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/resources"
)

// deadRunner is the world with one node that dies as a stop is sent to
// it: that request is never answered.
type deadRunner struct {
	*world
	dead    string
	waiting chan string
}

func (d *deadRunner) Execute(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error) {
	if node == d.dead && a.Op == "stop" {
		d.waiting <- a.Op + ":" + a.Primitive.ID
		<-ctx.Done()
		return cib.OpRecord{}, ctx.Err()
	}
	return d.world.Execute(ctx, node, a)
}

func (d *deadRunner) Recur(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error) {
	return d.Execute(ctx, node, a)
}

// stopOnDeadNode starts the group, then a new DC term whose runner sends
// the stops of one node (the group's) nowhere, and puts that node in
// standby: it returns once the DC waits on such a stop.
func stopOnDeadNode(t *testing.T, stonith bool, cfg Config) (w *world, victim string, dr *deadRunner, c *Controller) {
	t.Helper()
	st, w, stop, _ := setup(t, stonith)
	eventually(t, "group started", func() bool { return len(w.where("web")) == 1 && on(w, "vip") == on(w, "web") })
	victim = on(w, "web")
	stop()
	dr = &deadRunner{world: w, dead: victim, waiting: make(chan string, 16)}
	cfg.Store, cfg.Runner, cfg.Fencer, cfg.Members, cfg.Recheck = st, dr, w, w, time.Hour
	c = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	if _, err := st.Apply(ctx, &store.SetNodeAttribute{Node: victim, Name: "standby", Value: "on"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-dr.waiting:
	case <-time.After(5 * time.Second):
		t.Fatal("no stop sent to the node in standby")
	}
	return w, victim, dr, c
}

// A node that dies while the DC waits for a stop on it (it was being
// drained, and the power went) is fenced and its group recovered at
// once, not when the lost request times out.
func TestActionOnLostNodeIsAbandoned(t *testing.T) {
	w, victim, _, c := stopOnDeadNode(t, true, Config{})
	w.mu.Lock()
	w.alive[victim] = false
	w.mu.Unlock()
	c.Kick()
	eventually(t, "group recovered elsewhere", func() bool {
		n := w.where("web")
		return len(n) == 1 && n[0] != victim && on(w, "vip") == n[0]
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.fenced) == 0 || w.fenced[0] != victim {
		t.Fatalf("fenced %v, want %s; log %v", w.fenced, victim, w.log)
	}
}

// A node that gossip still sees alive but whose API never answers (a hung
// pacerd) does not hold the transition for ever: the DC gives up on the
// action at its timeout plus ReplyGrace, reports it, and tries again.
func TestHungNodeActionTimesOut(t *testing.T) {
	_, _, dr, c := stopOnDeadNode(t, false, Config{ActionTimeout: 50 * time.Millisecond, ReplyGrace: 50 * time.Millisecond})
	eventually(t, "the hung stop reported", func() bool {
		e := c.State().LastError
		return strings.Contains(e, "stop") && strings.Contains(e, "deadline exceeded")
	})
	select {
	case <-dr.waiting: // tried again after the backoff
	case <-time.After(10 * time.Second):
		t.Fatal("the DC did not try the stop again")
	}
}
