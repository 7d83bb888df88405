package cluster_test

import (
	"context"
	"testing"
	"time"

	"pacer/crm/store"
)

// A change made through one node is streamed to a watcher on another,
// with the version it produced; so is a node leaving gossip.
func TestWatchStreamsChanges(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watcher := c.Nodes[1].Client()
	defer watcher.Close()
	events, err := watcher.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Type != "hello" || ev.Node != c.Nodes[1].Name {
		t.Fatalf("first event %+v, want hello from %s", ev, c.Nodes[1].Name)
	}
	w := c.Nodes[2].Client()
	defer w.Close()
	res, err := w.Apply(ctx(t), &store.SetProperty{Name: "cluster-name", Value: "watched"})
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("watch stream closed")
			}
			seen = ev.Type == "cib" && ev.Index >= res.Index && ev.Version.Epoch >= res.Version.Epoch
		case <-timeout:
			t.Fatalf("no cib event for version %s within 10s", res.Version)
		}
	}
	c.Nodes[0].Kill()
	timeout = time.After(15 * time.Second)
	for seen := false; !seen; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("watch stream closed")
			}
			seen = ev.Type == "members"
		case <-timeout:
			t.Fatal("no members event after a node was killed")
		}
	}
}
