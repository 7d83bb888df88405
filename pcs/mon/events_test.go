package mon

import (
	"testing"
	"time"

	"pacer/api"
	"pacer/crm/cib"
)

// The story of a lost node, told in one line from successive snapshots.
func TestEventsChain(t *testing.T) {
	a := calm()
	b := calm()
	b.Nodes[1].State, b.Nodes[1].Unclean = "offline", true
	c := calm()
	c.Nodes[1].State = "offline"
	c.FenceHistory = []cib.FenceEvent{{Target: "node2", Action: "reboot", Device: "vmfence", Executor: "node1", Result: "ok", Start: ms(300), Completion: ms(510)}}
	c.Resources[0].Node, c.Resources[0].Since = "node1", ms(680)
	c.Resources[1].Node, c.Resources[1].Since = "node1", ms(700)

	var j []Event
	j = Append(j, Diff(a, b, ms(204))...)
	j = Append(j, Diff(b, c, ms(720))...)
	got := chains(j, time.UTC)
	want := "node2 lost 14:02:11.204 → fenced 14:02:11.510 → vip started on node1 14:02:11.680 → haproxy started on node1 14:02:11.700"
	if len(got) != 1 || got[0] != want {
		t.Errorf("chains:\n%q\nwant\n%q", got, want)
	}
}

func TestEventsKeepTheLast20(t *testing.T) {
	var j []Event
	for i := 0; i < 30; i++ {
		j = Append(j, Event{At: ms(i * 10000), Subject: "x", What: "moved"})
	}
	if len(j) != MaxEvents || !j[0].At.Equal(ms(10*10000)) {
		t.Errorf("kept %d, first at %v", len(j), j[0].At)
	}
}

func TestEventsOfResourcesAndNodes(t *testing.T) {
	a := calm()
	b := calm()
	b.Nodes[2].State, b.Nodes[2].Standby = "online", false
	b.Resources = append(b.Resources[:3], api.ResourceStatus{ID: "new", Agent: "ocf:pacemaker:Dummy", Role: "Stopped", TargetRole: "Started", Managed: true})
	b.Resources[2].Role, b.Resources[2].Node = "Stopped", ""
	evs := Diff(a, b, ms(0))
	want := map[string]bool{"node3 out of standby": false, "db stopped on node1": false, "new created": false, "old deleted": false, "vmfence deleted": false}
	for _, e := range evs {
		key := e.Subject + " " + e.What
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected event %q", key)
		}
		want[key] = true
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("missing event %q", k)
		}
	}
}
