package cluster_test

import (
	"strings"
	"testing"
	"time"

	"pacer/test/testbed"
)

// A node that loses the majority (here: the other two are frozen with
// SIGSTOP) stops its resources under no-quorum-policy=stop; when the
// others come back the cluster runs the resource again, once.
func TestMinorityStopsItsResources(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[0]
	for _, args := range [][]string{
		{"property", "set", "stonith-enabled=false"},
		{"resource", "create", "d1", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--wait=30s"},
	} {
		if _, e, code := c.Pcsctl(n, args...); code != 0 {
			t.Fatalf("pcsctl %v: %s", args, e)
		}
	}
	on := activeOn(c, "d1")
	if len(on) != 1 {
		t.Fatalf("d1 active on %v", on)
	}
	holder := c.Node(on[0])
	var others []*testbed.Node
	for _, nd := range c.Nodes {
		if nd != holder {
			others = append(others, nd)
		}
	}
	for _, nd := range others {
		nd.Freeze()
	}
	thawed := false
	thaw := func() {
		if !thawed {
			for _, nd := range others {
				nd.Thaw()
			}
			thawed = true
		}
	}
	defer thaw()
	deadline := time.Now().Add(15 * time.Second)
	for len(activeOn(c, "d1")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s kept d1 running without quorum", holder.Name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(holder.Log(), "applying no-quorum-policy") {
		t.Errorf("%s's log does not say why it stopped d1", holder.Name)
	}
	thaw()
	deadline = time.Now().Add(30 * time.Second)
	for len(activeOn(c, "d1")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("d1 not running again after quorum came back: %v", activeOn(c, "d1"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if got := activeOn(c, "d1"); len(got) != 1 {
		t.Errorf("d1 active on %v", got)
	}
}

// resource move/ban/clear/restart on a live cluster, read from disk.
func TestMoveBanClearRestart(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[0]
	run := func(args ...string) string {
		t.Helper()
		out, e, code := c.Pcsctl(n, args...)
		if code != 0 {
			t.Fatalf("pcsctl %v: %s", args, e)
		}
		return out
	}
	run("property", "set", "stonith-enabled=false")
	run("resource", "create", "d1", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "resource-stickiness=100", "--wait=30s")
	first := activeOn(c, "d1")
	target := "node1"
	if first[0] == target {
		target = "node2"
	}
	run("resource", "move", "d1", target, "--wait=30s")
	if got := activeOn(c, "d1"); len(got) != 1 || got[0] != target {
		t.Fatalf("after move to %s: %v", target, got)
	}
	if out := run("constraint", "show", "--full"); !strings.Contains(out, "id:cli-prefer-d1") {
		t.Errorf("move's constraint not shown:\n%s", out)
	}
	run("resource", "ban", "d1", "--wait=30s")
	if got := activeOn(c, "d1"); len(got) != 1 || got[0] == target {
		t.Fatalf("after ban from %s: %v", target, got)
	}
	run("resource", "clear", "d1", "--wait=30s")
	if out := run("constraint", "show", "--full"); strings.Contains(out, "cli-") {
		t.Errorf("clear left constraints:\n%s", out)
	}
	before := activeOn(c, "d1")
	run("resource", "restart", "d1")
	if got := activeOn(c, "d1"); len(got) != 1 {
		t.Fatalf("after restart: %v", got)
	}
	// The executor on that node logs every operation it ran.
	if !strings.Contains(c.Node(before[0]).Log(), "rsc=d1 op=stop") {
		t.Errorf("restart did not stop d1 on %s", before[0])
	}
}
