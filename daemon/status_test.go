package daemon

import (
	"testing"

	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/membership"
)

func TestBuildStatus(t *testing.T) {
	x := cib.New()
	x.Config.Nodes = []cib.Node{{ID: "1", Name: "n1"}, {ID: "2", Name: "n2", Attributes: map[string]string{"standby": "on"}}, {ID: "3", Name: "n3"}}
	x.Config.Resources = []cib.Resource{
		{Group: &cib.Group{ID: "web", Meta: map[string]string{"target-role": "Stopped"}, Members: []*cib.Primitive{
			{ID: "vip", Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"},
			{ID: "proxy", Class: "systemd", Type: "haproxy", Meta: map[string]string{"target-role": "Started", "is-managed": "false"}},
		}}},
		{Primitive: &cib.Primitive{ID: "db", Class: "ocf", Provider: "pacemaker", Type: "Dummy"}},
	}
	x.Status.Nodes["n1"] = &cib.NodeStatus{Name: "n1", Resources: map[string]*cib.ResourceHistory{
		"db": {ID: "db", Ops: []cib.OpRecord{{Operation: "start", CallID: 3, RC: 0}, {Operation: "monitor", CallID: 4, RC: 0}}},
	}}
	members := []membership.Member{
		{Meta: membership.Meta{Name: "n1"}, State: membership.StateAlive},
		{Meta: membership.Meta{Name: "n2"}, State: membership.StateAlive},
		{Meta: membership.Meta{Name: "n3"}, State: membership.StateDead},
	}
	servers := []store.Server{{ID: "n1", Voter: true}, {ID: "n2", Voter: true}, {ID: "n3", Voter: false}}
	st := buildStatus("c", "n1", "n1", x, 7, members, servers)
	states := map[string]string{}
	for _, n := range st.Nodes {
		states[n.Name] = n.State + "/" + n.Raft
	}
	if states["n1"] != "online/voter" || states["n2"] != "standby/voter" || states["n3"] != "offline/nonvoter" {
		t.Errorf("node states %v", states)
	}
	got := map[string]string{}
	for _, r := range st.Resources {
		got[r.ID] = r.Role + " " + r.Node + " " + r.TargetRole
		if r.ID == "proxy" && r.Managed {
			t.Error("proxy should be unmanaged")
		}
	}
	want := map[string]string{"vip": "Stopped  Stopped", "proxy": "Stopped  Started", "db": "Started n1 Started"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if !st.Quorum || st.DC != "n1" || st.Index != 7 {
		t.Errorf("summary %+v", st)
	}
}
