package quorum

import (
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
)

// pair builds a CIB of server1 and server4 where each node runs the
// resources given (name=priority, priority may be empty).
func pair(on1, on4 []string, props map[string]string) *cib.CIB {
	c := &cib.CIB{}
	c.Config.Properties = props
	c.Config.Nodes = []cib.Node{{ID: "1", Name: "server1"}, {ID: "4", Name: "server4"}}
	c.Status.Nodes = map[string]*cib.NodeStatus{}
	for node, list := range map[string][]string{"server1": on1, "server4": on4} {
		ns := &cib.NodeStatus{Name: node, Resources: map[string]*cib.ResourceHistory{}}
		for _, spec := range list {
			id, prio, _ := strings.Cut(spec, "=")
			p := &cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
			if prio != "" {
				p.Meta = map[string]string{"priority": prio}
			}
			c.Config.Resources = append(c.Config.Resources, cib.Resource{Primitive: p})
			ns.Resources[id] = &cib.ResourceHistory{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy",
				Ops: []cib.OpRecord{{ID: id + "_last_0", Operation: "start", RC: 0, CallID: 1}}}
		}
		c.Status.Nodes[node] = ns
	}
	return c
}

func TestTwoNodeTie(t *testing.T) {
	cases := []struct {
		name     string
		on1, on4 []string
		winner   string
		reason   string
	}{
		{"nothing runs: name order", nil, nil, "server1", "equal priority and resources (0 each): server1 wins by name order"},
		{"the node with the group wins", nil, []string{"vip", "haproxy"}, "server4", "server4 runs more resources (runs haproxy, vip; server1 runs nothing)"},
		{"priority beats count", []string{"db=10"}, []string{"vip", "haproxy"}, "server1", "server1 has the higher priority (10 against 0: runs db)"},
		{"equal count and priority: name", []string{"a"}, []string{"b"}, "server1", "equal priority and resources (1 each): server1 wins by name order"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pair(tc.on1, tc.on4, nil)
			for _, args := range [][2]string{{"server1", "server4"}, {"server4", "server1"}} {
				tie := TwoNodeTie(c, args[0], args[1])
				if tie.Winner != tc.winner || tie.Reason != tc.reason {
					t.Errorf("TwoNodeTie(%s, %s) = %+v, want winner %s, reason %q", args[0], args[1], tie, tc.winner, tc.reason)
				}
				if tie.Loser == tie.Winner || (tie.Loser != "server1" && tie.Loser != "server4") {
					t.Errorf("loser %q", tie.Loser)
				}
			}
		})
	}
}

func TestTwoNodeTieNodePriority(t *testing.T) {
	c := pair(nil, []string{"vip"}, nil)
	c.Config.Nodes[0].Attributes = map[string]string{"priority": "5"}
	if tie := TwoNodeTie(c, "server1", "server4"); tie.Winner != "server1" {
		t.Errorf("node priority 5 should beat one resource of priority 0: %+v", tie)
	}
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 2, 11, 0, time.UTC)
	tie := Tie{Winner: "server1", Loser: "server4", Reason: "server1 runs more resources"}
	base := View{Self: "server1", Peer: "server4", Enabled: true, WaitForAll: true, SeenPeer: true,
		StonithEnabled: true, LostSince: t0, Tie: tie, Delay: 2 * time.Second, Now: t0.Add(time.Second)}
	cases := []struct {
		name   string
		mod    func(*View)
		step   Step
		at     time.Time
		reason string // substring
	}{
		{"mode off", func(v *View) { v.Enabled = false }, Idle, time.Time{}, "off"},
		{"a leader exists", func(v *View) { v.HasLeader = true }, Idle, time.Time{}, "quorate"},
		{"wait-for-all, peer never seen", func(v *View) { v.SeenPeer = false }, Blocked, time.Time{}, "pcsctl quorum unblock"},
		{"wait-for-all unblocked", func(v *View) { v.SeenPeer, v.Unblocked = false, true }, Fence, time.Time{}, "fencing it"},
		{"wait-for-all off", func(v *View) { v.SeenPeer, v.WaitForAll = false, false }, Fence, time.Time{}, "fencing it"},
		{"peer still up: election", func(v *View) { v.PeerUp = true }, Wait, time.Time{}, "waiting for a leader"},
		{"no fencing", func(v *View) { v.StonithEnabled = false }, Blocked, time.Time{}, "stonith-enabled=false"},
		{"winner settles first", func(v *View) { v.Now = t0.Add(100 * time.Millisecond) }, Wait, t0.Add(Settle), "fencing it at 14:02:11.500"},
		{"winner fences after settle", nil, Fence, time.Time{}, "carrying on alone"},
		{"loser waits the delay", func(v *View) { v.Self, v.Peer = "server4", "server1" }, Wait, t0.Add(Settle + 2*time.Second), "loses the fence race"},
		{"loser fences after the delay", func(v *View) {
			v.Self, v.Peer = "server4", "server1"
			v.Now = t0.Add(Settle + 2*time.Second)
		}, Fence, time.Time{}, "server1 is gone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := base
			if tc.mod != nil {
				tc.mod(&v)
			}
			d := Decide(v)
			if d.Step != tc.step || !d.At.Equal(tc.at) || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("Decide = %+v, want step %s at %v, reason containing %q", d, tc.step, tc.at, tc.reason)
			}
		})
	}
}

func TestEnabledAndDelay(t *testing.T) {
	c := pair(nil, nil, nil)
	if !Enabled(c, 2) || Enabled(c, 3) {
		t.Error("unset two-node: on for two set-up nodes only")
	}
	c.Config.Properties = map[string]string{"two-node": "false"}
	if Enabled(c, 2) {
		t.Error("two-node=false must win over the node count")
	}
	c.Config.Properties = map[string]string{"two-node": "true"}
	if !Enabled(c, 3) {
		t.Error("two-node=true must win over the node count")
	}
	if d := RaceDelay(c); d != DefaultRaceDelay {
		t.Errorf("default delay %v", d)
	}
	c.Config.Properties["priority-fencing-delay"] = "5s"
	if d := RaceDelay(c); d != 5*time.Second {
		t.Errorf("priority-fencing-delay=5s gave %v", d)
	}
}
