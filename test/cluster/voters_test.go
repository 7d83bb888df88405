package cluster_test

import (
	"testing"
	"time"

	"pacer/crm/store"
)

// Four nodes: three vote. When a voter is gone longer than
// voter_replace_after, the live non-voter takes its place.
func TestDeadVoterReplacedByNonvoter(t *testing.T) {
	c, leader := startCluster(t, 4, `voter_replace_after = "2s"`)
	cl := c.Node(leader).Client()
	defer cl.Close()
	servers := func() map[string]store.Server {
		m, err := cl.Members(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Server{}
		for _, s := range m.Servers {
			out[s.ID] = s
		}
		return out
	}
	s := servers()
	if len(s) != 4 || !s["node1"].Voter || !s["node2"].Voter || !s["node3"].Voter || s["node4"].Voter {
		t.Fatalf("initial Raft configuration %+v, want node1-3 voters and node4 non-voter", s)
	}
	var victim string
	for _, n := range []string{"node1", "node2", "node3"} {
		if n != leader {
			victim = n
			break
		}
	}
	c.Node(victim).Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s = servers()
		_, stillThere := s[victim]
		if s["node4"].Voter && !stillThere {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after killing %s: %+v; want node4 promoted and %s removed", victim, s, victim)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
