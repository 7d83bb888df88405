package store

import (
	"log/slog"
	"testing"
	"time"
)

// Two voters, one lost: no leader is possible until the survivor makes
// itself the only voter. Then it leads with every write it had, takes
// new writes, and the lost node, back from its old data directory, is
// ignored as a candidate and joins again as a non-voter, then a voter,
// with the writes made while it was away.
func TestShrinkToSelfAndRejoin(t *testing.T) {
	c := newCluster(t, 2, slog.LevelInfo, nil)
	ctx := ctxWait(t)
	lead := c.leader()
	before, err := lead.Apply(ctx, &AddNode{Name: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	var survivor *Store
	for _, s := range c.followers(lead) {
		survivor = s
	}
	if err := survivor.WaitIndex(ctx, before.Index); err != nil {
		t.Fatal(err)
	}
	lost := lead.ID()
	c.kill(lost)

	// Alone, the survivor cannot win an election with two voters.
	time.Sleep(time.Second)
	if id, _ := survivor.Leader(); id != "" || survivor.IsLeader() {
		t.Fatalf("a lone voter of two has a leader %q (state %s)", id, survivor.State())
	}

	if err := survivor.ShrinkToSelf(); err != nil {
		t.Fatalf("shrink: %v", err)
	}
	eventually(t, "the survivor leads alone", survivor.IsLeader)
	x, _ := survivor.Read()
	if x.Config.Node("node1") == nil {
		t.Fatal("the write made before the loss is gone after the shrink")
	}
	srv, err := survivor.Servers()
	if err != nil || len(srv) != 1 || srv[0].ID != survivor.ID() || !srv[0].Voter {
		t.Fatalf("configuration after shrink: %+v, %v", srv, err)
	}
	after, err := survivor.Apply(ctx, &AddNode{Name: "node2"})
	if err != nil {
		t.Fatalf("write after the shrink: %v", err)
	}

	// The lost node comes back with its old state (two voters): its
	// campaign must not depose the survivor.
	back := c.start(lost, Config{})
	time.Sleep(time.Second)
	if !survivor.IsLeader() {
		t.Fatalf("the returning node deposed the survivor: %s", c.describe())
	}
	// The leader's housekeeping adds it back.
	alive := map[string]string{lost: back.Addr(), survivor.ID(): survivor.Addr()}
	for i := 0; i < 2; i++ { // add as non-voter, then promote
		cur, err := survivor.Servers()
		if err != nil {
			t.Fatal(err)
		}
		plan := PlanVoters(cur, alive, nil, time.Now(), time.Minute, survivor.ID())
		if err := survivor.ApplyVoterChanges(plan); err != nil {
			t.Fatalf("re-add %s: %v", lost, err)
		}
	}
	if err := back.WaitIndex(ctx, after.Index); err != nil {
		t.Fatalf("the returning node did not catch up: %v", err)
	}
	y, _ := back.Read()
	if y.Config.Node("node2") == nil {
		t.Fatal("the returning node lacks the write made while it was away")
	}
	eventually(t, "both are voters again", func() bool {
		srv, err := c.leader().Servers()
		if err != nil || len(srv) != 2 {
			return false
		}
		return srv[0].Voter && srv[1].Voter
	})
	if _, err := c.leader().Apply(ctx, &AddNode{Name: "node3"}); err != nil {
		t.Fatalf("write with both voters back: %v", err)
	}
}

// A node that raft has just made leader is its own leader at once: two-
// node mode asks Leader right after IsLeader turns true, and an empty
// answer in that window made it fence its peer a second time.
func TestLeaderAnswersAsSoonAsLeading(t *testing.T) {
	c := newCluster(t, 1, slog.LevelWarn, nil)
	s := c.leader()
	for range 5 {
		if err := s.ShrinkToSelf(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !s.IsLeader() {
			if time.Now().After(deadline) {
				t.Fatal("never led after the shrink")
			}
			time.Sleep(50 * time.Microsecond)
		}
		if id, _ := s.Leader(); id != s.ID() {
			t.Fatalf("IsLeader is true but Leader says %q", id)
		}
	}
}
