package scheduler

import (
	"testing"

	"pacer/crm/cib"
)

// lostStart records what the DC writes when a start's node left before
// answering: a pending start (call id -1) under the lost-action id.
func (x *cl) lostStart(rsc, node string) *cl {
	x.probedStopped(rsc, node)
	h := x.history(node, rsc)
	h.Ops = append(h.Ops, cib.OpRecord{ID: rsc + "_lost_0", Operation: "start", CallID: -1, OpStatus: -1})
	return x
}

// A start whose node left before answering may have run. If the node is
// back in the membership, the resource is taken as active there (not
// started a second time elsewhere); if it is still gone, the node is
// fenced before the resource starts elsewhere.
func TestLostStartCountsAsActive(t *testing.T) {
	tr := cluster("node1", "node2", "node3").fencing().prim("A").lostStart("A", "node2").schedule(t)
	for _, s := range tr.Steps {
		if s.Kind == StepStart && s.Resource == "A" {
			t.Errorf("A started on %s while the lost start on node2 may have run (it counts as active there): %v", s.Node, tr.Steps)
		}
	}
	tr = cluster("node1", "node2", "node3").fencing().prim("A").lostStart("A", "node2").lost("node2").schedule(t)
	if len(tr.Fencing) != 1 || tr.Fencing[0] != "node2" {
		t.Fatalf("fencing %v; want node2, whose lost start may have run", tr.Fencing)
	}
	for _, a := range tr.Actions {
		if a.Resource == "A" && (a.Kind != ActMove || a.From != "node2") {
			t.Errorf("A: %+v; want a move off node2, where the lost start may have run", a)
		}
	}
	fenced := false
	for _, s := range tr.Steps {
		switch {
		case s.Kind == StepFence && s.Node == "node2":
			fenced = true
		case s.Kind == StepStart && s.Resource == "A" && !fenced:
			t.Errorf("A started before node2 was fenced: %v", tr.Steps)
		}
	}
}
