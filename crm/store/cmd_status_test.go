package store

import (
	"testing"
	"time"

	"pacer/crm/cib"
)

func TestStatusCommands(t *testing.T) {
	agent := cib.AgentName{Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
	at := time.Unix(1700000000, 0)
	x := apply(t, cib.New(),
		&SetNodeState{Node: "n1", InCCM: true, Crmd: true, Join: "member", Expected: "member"},
		&RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_last_0", Operation: "start", CallID: 1}},
		&RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_monitor_10000", Operation: "monitor", IntervalMS: 10000, CallID: 2}},
		&RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_monitor_10000", Operation: "monitor", IntervalMS: 10000, CallID: 3, RC: 7, LastRun: at}, Failed: true},
		&RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_monitor_10000", Operation: "monitor", IntervalMS: 10000, CallID: 4, RC: 7, LastRun: at}, Failed: true},
	)
	ns := x.Status.Nodes["n1"]
	if !ns.InCCM || ns.Join != "member" {
		t.Errorf("node state %+v", ns)
	}
	h := ns.Resources["a"]
	if len(h.Ops) != 3 || h.Ops[2].CallID != 4 || h.Ops[1].ID != "a_last_failure_0" || h.Type != "Dummy" {
		t.Errorf("history %+v", h)
	}
	if got := ns.Attributes["fail-count-a#monitor_10000"]; got != "2" {
		t.Errorf("fail count %q, want 2", got)
	}
	if x.Version.Epoch != 0 || x.Version.NumUpdates != 5 {
		t.Errorf("status writes must bump num_updates only: %s", x.Version)
	}
	x = apply(t, x, &ClearFailures{Resource: "a"})
	if len(x.Status.Nodes["n1"].Attributes) != 0 || len(x.Status.Nodes["n1"].Resources["a"].Ops) != 1 {
		t.Errorf("cleanup left %+v %+v", x.Status.Nodes["n1"].Attributes, x.Status.Nodes["n1"].Resources["a"].Ops)
	}
	x = apply(t, x, &RecordFence{Node: "n1", At: at})
	ns = x.Status.Nodes["n1"]
	if ns.InCCM || ns.Join != "down" || ns.Resources != nil || ns.LastFenced == nil || !ns.LastFenced.Equal(at) {
		t.Errorf("after fence %+v", ns)
	}
}

// A lost action's placeholder stays until the node says anything of that
// resource, then gives way to the real record.
func TestLostOpPlaceholderReplaced(t *testing.T) {
	agent := cib.AgentName{Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
	x := apply(t, cib.New(),
		&RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_last_0", Operation: "monitor", CallID: 1, RC: 7}},
		&RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: LostOpID("a"), Operation: "start", CallID: -1, OpStatus: -1}},
	)
	if ops := x.Status.Nodes["n1"].Resources["a"].Ops; len(ops) != 2 || ops[1].ID != "a_lost_0" {
		t.Fatalf("placeholder not kept: %+v", ops)
	}
	x = apply(t, x, &RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_last_0", Operation: "monitor", CallID: 2, RC: 0}})
	if ops := x.Status.Nodes["n1"].Resources["a"].Ops; len(ops) != 1 || ops[0].CallID != 2 {
		t.Fatalf("the probe's answer must replace the placeholder: %+v", ops)
	}
}

// A restart is cleared once per run of the node's daemon: the DC clears
// the new run when gossip shows it, and the node's own announcement of
// the same run, landing after the DC started something there, keeps that.
func TestClearNodeHistoryOncePerBoot(t *testing.T) {
	agent := cib.AgentName{Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
	start := &RecordOp{Node: "n1", Resource: "a", Agent: agent, Op: cib.OpRecord{ID: "a_last_0", Operation: "start", CallID: 1}}
	x := apply(t, cib.New(),
		&RecordOp{Node: "n1", Resource: "old", Agent: agent, Op: cib.OpRecord{ID: "old_last_0", Operation: "start", CallID: 1}},
		&SetTransientAttr{Node: "n1", Name: "shutdown", Value: "1"},
		&ClearNodeHistory{Node: "n1", Boot: "b1"}, // the DC, on seeing run b1
		start,
		&ClearNodeHistory{Node: "n1", Boot: "b1"}, // the node itself, late
	)
	ns := x.Status.Nodes["n1"]
	if ns.Boot != "b1" || ns.Resources["old"] != nil || ns.Attributes["shutdown"] != "" {
		t.Errorf("the first clear of run b1 must drop the old run's history: %+v", ns)
	}
	if ns.Resources["a"] == nil {
		t.Errorf("a second clear of run b1 dropped the start recorded since: %+v", ns.Resources)
	}
	x = apply(t, x, &ClearNodeHistory{Node: "n1", Boot: "b2"})
	if ns := x.Status.Nodes["n1"]; ns.Boot != "b2" || ns.Resources != nil {
		t.Errorf("a new run must be cleared: %+v", ns)
	}
	x = apply(t, x, start, &ClearNodeHistory{Node: "n1"})
	if ns := x.Status.Nodes["n1"]; ns.Boot != "b2" || ns.Resources != nil {
		t.Errorf("a clear without a run (a rejoin) clears and keeps the run: %+v", ns)
	}
}
