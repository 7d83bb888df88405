package controller

import (
	"testing"

	"pacer/crm/scheduler"
)

// What the DC's state says in words, status reads back: the wording and
// its reader live together, so a change to one breaks this test.
func TestDescribeReadsBack(t *testing.T) {
	for _, c := range []struct {
		ga           scheduler.GraphAction
		kind, target string
	}{
		{scheduler.GraphAction{Kind: scheduler.StepFence, Node: "node2"}, "fence", "node2"},
		{scheduler.GraphAction{Kind: scheduler.StepStart, Resource: "web", Node: "node1"}, "start", "web"},
		{scheduler.GraphAction{Kind: scheduler.StepStop, Resource: "web", Node: "node1"}, "stop", "web"},
		{scheduler.GraphAction{Kind: scheduler.StepMonitor, Resource: "web", Node: "node1", IntervalMS: 10000}, "monitor", "web"},
	} {
		kind, target, ok := ReadPending(describe(c.ga))
		if !ok || kind != c.kind || target != c.target {
			t.Errorf("%q read back as %q %q %v", describe(c.ga), kind, target, ok)
		}
	}
	b := describeBlocked(scheduler.Action{Kind: scheduler.ActStart, Resource: "vip", Reason: "waiting to fence node2: device timeout"})
	if kind, rsc, reason, ok := ReadBlocked(b); !ok || kind != "start" || rsc != "vip" || reason != "waiting to fence node2: device timeout" {
		t.Errorf("%q read back as %q %q %q %v", b, kind, rsc, reason, ok)
	}
	if _, _, _, ok := ReadBlocked("no fencing device is configured"); ok {
		t.Error("a warning was read as a blocked action")
	}
}
