package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTargetVoters(t *testing.T) {
	for known, want := range map[int]int{0: 0, 1: 1, 2: 2, 3: 3, 4: 3, 5: 5, 6: 5, 9: 5} {
		if got := TargetVoters(known); got != want {
			t.Errorf("TargetVoters(%d) = %d, want %d", known, got, want)
		}
	}
}

// servers parses "n1 n2 -n3" into a configuration: a leading '-' marks a
// non-voter; addresses are "<id>:7000".
func servers(spec string) []Server {
	var out []Server
	for _, f := range strings.Fields(spec) {
		id := strings.TrimPrefix(f, "-")
		out = append(out, Server{ID: id, Addr: id + ":7000", Voter: id == f})
	}
	return out
}

// alive parses "n1 n2" into id -> "<id>:7000"; "n1=x:1" gives an address.
func aliveSet(spec string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(spec) {
		id, addr, ok := strings.Cut(f, "=")
		if !ok {
			addr = id + ":7000"
		}
		m[id] = addr
	}
	return m
}

func TestPlanVoters(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const after = 30 * time.Second
	long, short := now.Add(-time.Minute), now.Add(-10*time.Second)
	for _, tc := range []struct {
		name   string
		cur    string
		alive  string
		gone   map[string]time.Time
		leader string
		want   string // "op id" joined by ", "
	}{
		{name: "alone", cur: "n1", alive: "n1", leader: "n1", want: ""},
		{name: "joiners are added as non-voters first", cur: "n1", alive: "n1 n2 n3", leader: "n1",
			want: "add-nonvoter n2, add-nonvoter n3"},
		{name: "then promoted up to 3", cur: "n1 -n2 -n3", alive: "n1 n2 n3", leader: "n1",
			want: "promote n2, promote n3"},
		{name: "two nodes: two voters", cur: "n1 -n2", alive: "n1 n2", leader: "n1",
			want: "promote n2"},
		{name: "four nodes: three voters, in name order", cur: "n1 -n4 -n3 -n2", alive: "n1 n2 n3 n4", leader: "n1",
			want: "promote n2, promote n3"},
		{name: "five nodes: five voters", cur: "n1 n2 n3 -n4 -n5", alive: "n1 n2 n3 n4 n5", leader: "n1",
			want: "promote n4, promote n5"},
		{name: "never more than five", cur: "n1 n2 n3 n4 n5 -n6", alive: "n1 n2 n3 n4 n5 n6", leader: "n1", want: ""},
		{name: "dead non-voter is not promoted", cur: "n1 n2 -n3", alive: "n1 n2", leader: "n1", want: ""},
		{name: "voter gone briefly is kept", cur: "n1 n2 n3 -n4", alive: "n1 n2 n4",
			gone: map[string]time.Time{"n3": short}, leader: "n1", want: ""},
		{name: "voter gone long is replaced: promote first, then remove", cur: "n1 n2 n3 -n4", alive: "n1 n2 n4",
			gone: map[string]time.Time{"n3": long}, leader: "n1", want: "promote n4, remove n3"},
		{name: "no replacement: gone voter stays", cur: "n1 n2 n3", alive: "n1 n2",
			gone: map[string]time.Time{"n3": long}, leader: "n1", want: ""},
		{name: "a newcomer is not a replacement in its first round", cur: "n1 n2 n3", alive: "n1 n2 n4",
			gone: map[string]time.Time{"n3": long}, leader: "n1", want: "add-nonvoter n4"},
		{name: "gone time unknown: kept", cur: "n1 n2 n3 -n4", alive: "n1 n2 n4", leader: "n1", want: ""},
		{name: "two gone, one spare", cur: "n1 n2 n3 n4 n5 -n6", alive: "n1 n2 n3 n6",
			gone: map[string]time.Time{"n4": long, "n5": long}, leader: "n1", want: "promote n6, remove n4"},
		{name: "the leader is never removed, even if gossip lost it", cur: "n1 n2 n3 -n4", alive: "n2 n3 n4",
			gone: map[string]time.Time{"n1": long}, leader: "n1", want: ""},
		{name: "no alive majority: nothing that needs one", cur: "n1 n2 n3 n4 n5 -n6", alive: "n1 n6",
			gone: map[string]time.Time{"n2": long, "n3": long, "n4": long, "n5": long}, leader: "n1", want: ""},
		{name: "address change", cur: "n1 n2 -n3", alive: "n1 n2=10.0.0.9:7000 n3=10.0.0.8:7000", leader: "n1",
			want: "update-addr n2, update-addr n3, promote n3"},
		{name: "alive without an address is not added", cur: "n1", alive: "n1 n2=", leader: "n1", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := PlanVoters(servers(tc.cur), aliveSet(tc.alive), tc.gone, now, after, tc.leader)
			var got []string
			for _, c := range plan {
				got = append(got, c.Op+" "+c.ID)
				if c.Op != OpRemove && c.Addr == "" {
					t.Errorf("%s without an address", c)
				}
			}
			if g := strings.Join(got, ", "); g != tc.want {
				t.Fatalf("plan = %q, want %q", g, tc.want)
			}
			checkPlanSafe(t, servers(tc.cur), aliveSet(tc.alive), tc.leader, plan)
		})
	}
}

// checkPlanSafe replays a plan and checks the invariants after each step:
// alive voters keep a strict majority whenever they had one, and the
// leader stays a member.
func checkPlanSafe(t *testing.T, cur []Server, alive map[string]string, leader string, plan []VoterChange) {
	t.Helper()
	voter := map[string]bool{}
	for _, s := range cur {
		voter[s.ID] = s.Voter
	}
	ok := func() bool {
		all, up := 0, 0
		for id, v := range voter {
			if v {
				all++
				if _, a := alive[id]; a || id == leader {
					up++
				}
			}
		}
		return 2*up > all
	}
	had := ok()
	for _, c := range plan {
		switch c.Op {
		case OpAddNonvoter:
			voter[c.ID] = false
		case OpPromote:
			voter[c.ID] = true
		case OpRemove:
			if c.ID == leader {
				t.Fatalf("plan removes the leader")
			}
			delete(voter, c.ID)
		}
		if had && !ok() {
			t.Fatalf("after %s alive voters lost their majority", c)
		}
	}
}

// PlanVoters converges: applying its plans repeatedly reaches a fixed
// point within a few rounds for any mix of alive and gone nodes.
func TestPlanVotersConverges(t *testing.T) {
	now := time.Now()
	for mask := range 1 << 6 {
		cur := servers("n1 n2 n3")
		alive := map[string]string{"n1": "n1:7000"}
		gone := map[string]time.Time{}
		for i := 2; i <= 7; i++ {
			id := fmt.Sprintf("n%d", i)
			if mask&(1<<(i-2)) != 0 {
				alive[id] = id + ":7000"
			} else {
				gone[id] = now.Add(-time.Hour)
			}
		}
		for round := 0; ; round++ {
			plan := PlanVoters(cur, alive, gone, now, time.Minute, "n1")
			if len(plan) == 0 {
				break
			}
			if round > 3 {
				t.Fatalf("mask %06b: no fixed point; last plan %v", mask, plan)
			}
			checkPlanSafe(t, cur, alive, "n1", plan)
			cur = replay(cur, plan)
		}
		voters := 0
		for _, s := range cur {
			if s.Voter {
				voters++
			}
		}
		if voters < 3 {
			t.Fatalf("mask %06b: %d voters at the fixed point: %v", mask, voters, cur)
		}
	}
}

func replay(cur []Server, plan []VoterChange) []Server {
	out := slices.Clone(cur)
	for _, c := range plan {
		i := slices.IndexFunc(out, func(s Server) bool { return s.ID == c.ID })
		switch c.Op {
		case OpAddNonvoter:
			out = append(out, Server{ID: c.ID, Addr: c.Addr})
		case OpPromote:
			out[i].Voter = true
		case OpUpdateAddr:
			out[i].Addr = c.Addr
		case OpRemove:
			out = slices.Delete(out, i, i+1)
		}
	}
	return out
}
