package scheduler

import "testing"

// A node that left cleanly while the CIB still has the fencing device
// started there (its DC went away in the middle of moving it) is not
// fenced for it: the device is simply started elsewhere. Any other
// resource still makes it unclean (offline-with-active-resource).
func TestDeviceOnCleanlyLeftNode(t *testing.T) {
	x := cluster("node1", "node2", "node3").fencing().prim("A").running("fence", "node3").running("A", "node1").left("node3")
	tr := x.schedule(t)
	if len(tr.Fencing) != 0 {
		t.Errorf("fencing %v; want none", tr.Fencing)
	}
	for _, n := range tr.Nodes {
		if n.Unclean {
			t.Errorf("%s unclean: %s", n.Name, n.Reason)
		}
	}
	started := false
	for _, s := range tr.Steps {
		if s.Kind == StepStart && s.Resource == "fence" && s.Node != "node3" {
			started = true
		}
	}
	if !started {
		t.Errorf("steps %v; want the device started on a live node", tr.Steps)
	}
	x = cluster("node1", "node2", "node3").fencing().prim("A").running("fence", "node1").running("A", "node3").left("node3")
	if tr := x.schedule(t); len(tr.Fencing) != 1 || tr.Fencing[0] != "node3" {
		t.Errorf("an ordinary resource on a node that left: fencing %v, want [node3]", tr.Fencing)
	}
}
