package cluster_test

import (
	"strings"
	"testing"
	"time"
)

// pcsctl mon as a person uses it: started in an 80x24 terminal, it shows
// the cluster, follows changes made with pcsctl, folds sections, filters,
// notices a killed node, and quits on q.
func TestMonScreen(t *testing.T) {
	c, leader := startCluster(t, 3, "")
	var watched, victim = c.Nodes[0], c.Nodes[2]
	if victim.Name == leader {
		victim = c.Nodes[1]
	}
	run := func(args ...string) { t.Helper(); pcsOK(t, c, watched, args...) }
	// The killed node keeps no resources here, so nothing waits to fence
	// it; the banner must say the cluster runs without fencing.
	run("property", "set", "stonith-enabled=false")

	scr := startTmux(t, c.Bin.Pcsctl, "--socket", watched.Socket, "mon")
	scr.WaitText(15*time.Second, "Node List:", "Online: [ node1 node2 node3 ]", "!! UNSAFE: fencing is disabled")
	// Joined: a line the terminal had to wrap counts as one long line.
	for i, l := range strings.Split(strings.TrimRight(scr.CaptureJoined(), "\n"), "\n") {
		if len([]rune(l)) > 80 || i >= 24 {
			t.Fatalf("the screen does not fit 80x24 (line %d: %q)", i+1, l)
		}
	}

	run("resource", "create", "d1", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native")
	scr.WaitFor(15*time.Second, "d1 started", func(s string) bool { return strings.Contains(s, "d1 (ocf:pacemaker:Dummy):  Started node") })

	run("node", "standby", "node2")
	scr.WaitText(15*time.Second, "Node standby: [ node2 ]")

	// Sections fold and come back.
	scr.Keys("n")
	scr.WaitFor(5*time.Second, "no node list", func(s string) bool { return !strings.Contains(s, "Node List:") })
	scr.Keys("n", "r")
	scr.WaitFor(5*time.Second, "nodes but no resources", func(s string) bool {
		return strings.Contains(s, "Node List:") && !strings.Contains(s, "Active Resources:")
	})
	scr.Keys("r")
	scr.WaitText(5*time.Second, "Active Resources:")

	// / filters: only what mentions the text stays.
	run("resource", "create", "other", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native")
	scr.WaitText(15*time.Second, "other (ocf:pacemaker:Dummy)")
	scr.Keys("/", "d", "1", "Enter")
	scr.WaitFor(5*time.Second, "only d1", func(s string) bool {
		return strings.Contains(s, `filter "d1"`) && strings.Contains(s, "* d1 ") && !strings.Contains(s, "* other ")
	})
	scr.Keys("Escape")
	scr.WaitText(5*time.Second, "* other ")

	// A killed node shows offline, and the events say it left.
	victim.Kill()
	scr.WaitText(20*time.Second, "OFFLINE: [ "+victim.Name+" ]")

	scr.Keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for !scr.Dead() {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit:\n%s", scr.Capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The screen says when the watched node goes away, and comes back with
// it once it returns.
func TestMonReconnects(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	watched := c.Nodes[1]
	scr := startTmux(t, c.Bin.Pcsctl, "--socket", watched.Socket, "mon")
	scr.WaitText(15*time.Second, "Node List:")
	if err := watched.Stop(10 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	scr.WaitText(10*time.Second, "DISCONNECTED", "connection lost")
	if err := watched.Start(); err != nil {
		t.Fatal(err)
	}
	scr.WaitFor(30*time.Second, "reconnected", func(s string) bool {
		return !strings.Contains(s, "DISCONNECTED") && strings.Contains(s, "Node List:")
	})
}
