package cluster_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/test/testbed"
)

func dummy(id string) *store.CreateResource {
	return &store.CreateResource{Primitive: cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy"}}
}

// A write through a follower is forwarded to the leader; another
// follower that is asked for the returned index serves the same version.
func TestWriteOnOneNodeReadOnAnother(t *testing.T) {
	c, leader := startCluster(t, 3, "")
	var followers []*testbed.Node
	for _, n := range c.Nodes {
		if n.Name != leader {
			followers = append(followers, n)
		}
	}
	w := followers[0].Client()
	defer w.Close()
	res, err := w.Apply(ctx(t), &store.SetProperty{Name: "cluster-name", Value: "written-on-" + followers[0].Name})
	if err != nil {
		t.Fatal(err)
	}
	if res.Leader != leader {
		t.Errorf("write was applied by %q, want leader %q", res.Leader, leader)
	}
	r := followers[1].Client()
	defer r.Close()
	got, err := r.CIB(ctx(t), res.Index)
	if err != nil {
		t.Fatal(err)
	}
	// The status section may have moved on since (probes): the
	// configuration version must be the one the write produced.
	if g := got.CIB.Version; g.Epoch != res.Version.Epoch || g.AdminEpoch != res.Version.AdminEpoch || got.Index < res.Index {
		t.Errorf("%s serves version %s at index %d, the write produced %s at %d", followers[1].Name, g, got.Index, res.Version, res.Index)
	}
	if v := got.CIB.Config.Properties["cluster-name"]; v != "written-on-"+followers[0].Name {
		t.Errorf("cluster-name on %s = %q", followers[1].Name, v)
	}
	// A consistent read on the other follower, without the index, also
	// sees the write at once (read index from the leader).
	for i := 0; i < 20; i++ {
		if _, err := w.Apply(ctx(t), &store.SetNodeAttribute{Node: followers[0].Name, Name: "seq", Value: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		cr := followers[1].Client()
		cr.Consistent = true
		got, err := cr.CIB(ctx(t), 0)
		cr.Close()
		if err != nil {
			t.Fatal(err)
		}
		if v := got.CIB.Config.Node(followers[0].Name).Attributes["seq"]; v != fmt.Sprint(i) || got.Stale != "" {
			t.Fatalf("consistent read after write %d saw seq=%q (stale note %q)", i, v, got.Stale)
		}
	}
	st, err := r.Status(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 3 || st.DC != leader {
		t.Errorf("status on %s: %d nodes, DC %q; want 3 nodes, DC %s", followers[1].Name, len(st.Nodes), st.DC, leader)
	}
	for _, n := range st.Nodes {
		if n.State != "online" || n.Raft != "voter" {
			t.Errorf("node %s: state %s raft %s; want online voter", n.Name, n.State, n.Raft)
		}
	}
}

// SIGKILL the leader while writing: a new leader is elected, writes go
// on, the killed node catches up after a restart, and every acknowledged
// write is on every node exactly once.
func TestLeaderKillNoWriteLost(t *testing.T) {
	c, leader := startCluster(t, 3, "")
	var acked []string
	var lastIndex uint64 // highest index a write was acknowledged at
	var writer *testbed.Node
	for _, n := range c.Nodes {
		if n.Name != leader {
			writer = n
			break
		}
	}
	cl := writer.Client()
	defer cl.Close()
	write := func(id string) {
		// Retry through an election: an "exists" answer to a retry means
		// an earlier attempt committed, which counts as acknowledged.
		deadline := time.Now().Add(20 * time.Second)
		for {
			res, err := cl.Apply(ctx(t), dummy(id))
			var ae *api.Error
			if err == nil || (errors.As(err, &ae) && ae.Code == api.CodeExists) {
				acked = append(acked, id)
				if err == nil {
					lastIndex = max(lastIndex, res.Index)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("write %s never succeeded: %v", id, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := 0; i < 20; i++ {
		write(fmt.Sprintf("r%02d", i))
	}
	old := c.Node(leader)
	old.Kill()
	for i := 20; i < 40; i++ {
		write(fmt.Sprintf("r%02d", i))
	}
	newLeader := waitLeader(t, c)
	if newLeader == leader {
		t.Fatalf("leader %s was killed but is still reported", leader)
	}
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	// Reads are local: ask for the index of the last acknowledged write.
	last, err := cl.CIB(ctx(t), lastIndex)
	if err != nil {
		t.Fatal(err)
	}
	// Every node, the restarted one included, must reach the same state.
	for _, n := range c.Nodes {
		nc := n.Client()
		var got *api.CIBResponse
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err = nc.CIB(ctx(t), last.Index)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		nc.Close()
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		var ids []string
		for _, p := range got.CIB.Config.Primitives() {
			ids = append(ids, p.ID)
		}
		sort.Strings(ids)
		if len(ids) != len(acked) {
			t.Errorf("%s has %d resources, %d writes were acknowledged", n.Name, len(ids), len(acked))
		}
		seen := map[string]int{}
		for _, id := range ids {
			seen[id]++
		}
		for _, id := range acked {
			if seen[id] != 1 {
				t.Errorf("%s: acknowledged write %s present %d times", n.Name, id, seen[id])
			}
		}
		// num_updates moves on by itself (probes, monitors); the
		// configuration version must match.
		if g, w := got.CIB.Version, last.CIB.Version; g.AdminEpoch != w.AdminEpoch || g.Epoch != w.Epoch {
			t.Errorf("%s at version %s, want %s", n.Name, g, w)
		}
	}
}

// SIGTERM on the leader: it hands leadership over and exits 0.
func TestGracefulStopTransfersLeadership(t *testing.T) {
	c, leader := startCluster(t, 3, "")
	if err := c.Node(leader).Stop(15 * time.Second); err != nil {
		t.Fatalf("SIGTERM: pacerd exited with %v, want exit 0", err)
	}
	next := waitLeader(t, c)
	if next == leader {
		t.Fatalf("leader did not change")
	}
	log := c.Node(leader).Log()
	for _, want := range []string{"handed Raft leadership over", "pacerd stopped"} {
		if !contains(log, want) {
			t.Errorf("log of %s lacks %q", leader, want)
		}
	}
}
