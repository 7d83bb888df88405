package mon

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/controller"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// t0 is the fixture's "now": 14:02:11.000 UTC.
var t0 = time.Date(2026, 11, 22, 14, 2, 11, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// calm is a healthy 3-node cluster with a group, a lone resource and a
// disabled one.
func calm() *api.StatusResponse {
	st := &api.StatusResponse{
		ClusterName: "test", Node: "node1", DC: "node1", Quorum: true,
		Version: cib.Version{Epoch: 12, NumUpdates: 40}, Index: 123,
		Transition: &api.DCState{DC: "node1", State: controller.State{Idle: true}},
		Nodes: []api.NodeStatus{
			{Name: "node1", State: "online", Gossip: "alive", Raft: "voter", NodeDetail: api.NodeDetail{ID: "1", Attributes: map[string]string{"rack": "r1"}}},
			{Name: "node2", State: "online", Gossip: "alive", Raft: "voter", NodeDetail: api.NodeDetail{ID: "2"}},
			{Name: "node3", State: "standby", Gossip: "alive", Raft: "voter", Standby: true, NodeDetail: api.NodeDetail{ID: "3"}},
		},
		Resources: []api.ResourceStatus{
			{ID: "vip", Agent: "ocf:heartbeat:IPaddr2", Group: "web", Role: "Started", Node: "node2", TargetRole: "Started", Managed: true, ResourceDetail: api.ResourceDetail{Since: ms(-60000)}},
			{ID: "haproxy", Agent: "systemd:haproxy", Group: "web", Role: "Started", Node: "node2", TargetRole: "Started", Managed: true, ResourceDetail: api.ResourceDetail{Since: ms(-59900)}},
			{ID: "db", Agent: "ocf:pacemaker:Dummy", Role: "Started", Node: "node1", TargetRole: "Started", Managed: true, ResourceDetail: api.ResourceDetail{FailCount: 2, FailCountNode: "node1", MigrationThreshold: "3", Since: ms(-30000)}},
			{ID: "old", Agent: "ocf:pacemaker:Dummy", Role: "Stopped", TargetRole: "Stopped", Managed: true},
			{ID: "vmfence", Agent: "stonith:fence_xvm", Role: "Started", Node: "node1", TargetRole: "Started", Managed: true},
		},
		Failures: []api.FailedAction{
			{Resource: "db", Node: "node1", Op: "monitor", IntervalMS: 10000, RC: 7, Status: "complete", At: ms(-31000), FailCount: "2", CallID: 14},
		},
	}
	st.PacerVersion = "0.1.0-dev"
	st.Properties = map[string]string{"stonith-enabled": "true"}
	st.Votes, st.ExpectedVotes = 3, 3
	st.LastChange = ms(-30000)
	return st
}

// trouble is calm after node2 was lost: fencing it keeps timing out, so
// the web group waits; fencing and quorum are also configured unsafely.
func trouble() *api.StatusResponse {
	st := calm()
	st.Properties = map[string]string{"stonith-enabled": "true", "no-quorum-policy": "ignore"}
	st.Votes = 2
	st.Nodes[1].State, st.Nodes[1].Gossip, st.Nodes[1].Unclean, st.Nodes[1].Fencing = "offline", "dead", true, true
	st.Transition = &api.DCState{DC: "node1", State: controller.State{Pending: []string{"fence node2"}}}
	st.Resources[4].Failed = true
	st.Failures = append(st.Failures, api.FailedAction{Resource: "vmfence", Node: "node1", Op: "monitor", IntervalMS: 60000, RC: 1, Status: "error", Reason: "fencing device does not answer: timeout", At: ms(100), CallID: 20})
	for i := 0; i < 3; i++ {
		start := ms(300 + i*200)
		st.FenceHistory = append(st.FenceHistory, cib.FenceEvent{Target: "node2", Action: "reboot", Device: "vmfence", Agent: "fence_xvm", Executor: "node1", Origin: "dc", Result: "timeout", Start: start, Duration: 150 * time.Millisecond, Completion: start.Add(150 * time.Millisecond)})
	}
	st.Notes = []string{"blocked: stop vip: node2 is unclean and cannot be fenced"}
	st.LastChange = ms(850)
	return st
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update rewrites it; review the diff)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}
