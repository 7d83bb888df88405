package daemon

import (
	"testing"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/controller"
	"pacer/crm/store"
	"pacer/membership"
)

func TestStatusDetail(t *testing.T) {
	at := time.Date(2026, 11, 22, 14, 2, 11, 0, time.UTC)
	x := cib.New()
	x.Config.Properties = map[string]string{"no-quorum-policy": "ignore"}
	x.Config.RscDefaults = map[string]string{"migration-threshold": "3"}
	x.Config.Nodes = []cib.Node{{ID: "1", Name: "n1", Attributes: map[string]string{"rack": "r1"}}, {ID: "2", Name: "n2"}}
	x.Config.Resources = []cib.Resource{{Primitive: &cib.Primitive{ID: "db", Class: "ocf", Provider: "pacemaker", Type: "Dummy"}}}
	x.Status.Nodes["n1"] = &cib.NodeStatus{Name: "n1", InCCM: true, Crmd: true, Expected: "member",
		Attributes: map[string]string{"fail-count-db#monitor_10000": "2", "pingd": "100"},
		Resources:  map[string]*cib.ResourceHistory{"db": {ID: "db", Ops: []cib.OpRecord{{Operation: "start", CallID: 3, LastRCChange: at}, {Operation: "monitor", IntervalMS: 10000, CallID: 4, RC: 7, LastRCChange: at.Add(time.Second)}}}}}
	x.Status.Nodes["n2"] = &cib.NodeStatus{Name: "n2", InCCM: false, Expected: "member"}
	members := []membership.Member{{Meta: membership.Meta{Name: "n1"}, State: membership.StateAlive}, {Meta: membership.Meta{Name: "n2"}, State: membership.StateDead}}
	servers := []store.Server{{ID: "n1", Voter: true}, {ID: "n2", Voter: true}}
	st := buildStatus("c", "n1", "n1", x, 7, members, servers)
	st.Transition = &api.DCState{DC: "n1", State: controller.State{Pending: []string{"fence n2", "stop db on n1"}, Blocked: []string{"start db: n2 is unclean and cannot be fenced"}}}
	addStatusDetail(&st, x, members, servers)
	if st.Votes != 1 || st.ExpectedVotes != 2 || st.Properties["no-quorum-policy"] != "ignore" {
		t.Errorf("summary: votes %d/%d props %v", st.Votes, st.ExpectedVotes, st.Properties)
	}
	n1, n2 := st.Nodes[0], st.Nodes[1]
	if n1.ID != "1" || n1.Attributes["rack"] != "r1" || n1.Attributes["pingd"] != "100" || len(n1.Attributes) != 2 {
		t.Errorf("n1 %+v", n1)
	}
	if !n2.Unclean || !n2.Fencing {
		t.Errorf("n2 %+v", n2)
	}
	db := st.Resources[0]
	if db.FailCount != 2 || db.FailCountNode != "n1" || db.MigrationThreshold != "3" || !db.Failed || db.Pending != "Stopping" ||
		db.Blocked != "cannot start: n2 is unclean and cannot be fenced" || !db.Since.Equal(at.Add(time.Second)) {
		t.Errorf("db %+v", db.ResourceDetail)
	}
	if !st.LastChange.Equal(at.Add(time.Second)) {
		t.Errorf("last change %v", st.LastChange)
	}
}

// stonith-enabled takes every Pacemaker boolean: "no" turns fencing off
// as "false" does, so a node that left is not shown unclean.
func TestStatusDetailStonithDisabledWords(t *testing.T) {
	for _, v := range []string{"false", "no", "off", "0"} {
		x := cib.New()
		x.Config.Properties = map[string]string{"stonith-enabled": v}
		x.Config.Nodes = []cib.Node{{ID: "2", Name: "n2"}}
		x.Status.Nodes["n2"] = &cib.NodeStatus{Name: "n2", Expected: "member"}
		members := []membership.Member{{Meta: membership.Meta{Name: "n2"}, State: membership.StateDead}}
		st := buildStatus("c", "n1", "n1", x, 1, members, nil)
		addStatusDetail(&st, x, members, nil)
		if st.Nodes[0].Unclean {
			t.Errorf("stonith-enabled=%s: n2 shown unclean", v)
		}
	}
}
