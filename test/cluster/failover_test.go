package cluster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/test/testbed"
)

// activeOn lists the nodes whose native Dummy state file for rsc exists:
// the resource itself, read from disk, not from what pacer reports.
func activeOn(c *testbed.Cluster, rsc string) []string {
	var on []string
	for _, n := range c.Nodes {
		if _, err := os.Stat(filepath.Join(n.Dir, "data", "dummy", "Dummy-"+rsc+".state")); err == nil {
			on = append(on, n.Name)
		}
	}
	return on
}

// The controller places a group, moves it on standby, and recovers it
// when its node dies (fencing disabled: a killed pacerd's dummy resources
// die with it, so the test removes their state files as a crash would).
func TestControllerPlacesMovesAndRecovers(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[0]
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := c.Pcsctl(n, args...)
		if code != 0 {
			t.Fatalf("pcsctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	run("property", "set", "stonith-enabled=false")
	for _, id := range []string{"ip", "app"} {
		run("resource", "create", id, "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "op", "monitor", "interval=1s", "--group", "web", "--wait=30s")
	}
	first := activeOn(c, "ip")
	if len(first) != 1 || strings.Join(activeOn(c, "app"), ",") != first[0] {
		t.Fatalf("after create: ip on %v, app on %v; want both on one node", first, activeOn(c, "app"))
	}
	if out := run("resource", "status", "web"); !strings.Contains(out, "ip\t(ocf:pacemaker:Dummy):\t Started "+first[0]) {
		t.Errorf("resource status disagrees with the state files (%s):\n%s", first[0], out)
	}

	run("node", "standby", first[0], "--wait=30s")
	second := activeOn(c, "ip")
	if len(second) != 1 || second[0] == first[0] || strings.Join(activeOn(c, "app"), ",") != second[0] {
		t.Fatalf("after standby of %s: ip on %v, app on %v", first[0], second, activeOn(c, "app"))
	}
	run("node", "unstandby", first[0], "--wait=30s")
	if got := activeOn(c, "ip"); len(got) != 1 || got[0] != second[0] {
		t.Errorf("after unstandby the group moved again (%v); it should stay on %s", got, second[0])
	}

	// A monitor notices a resource that vanished and recovers it in place.
	os.Remove(filepath.Join(c.Node(second[0]).Dir, "data", "dummy", "Dummy-app.state"))
	deadline := time.Now().Add(20 * time.Second)
	for strings.Join(activeOn(c, "app"), ",") != second[0] {
		if time.Now().After(deadline) {
			t.Fatalf("app was not recovered on %s: %v", second[0], activeOn(c, "app"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := run("status"); !strings.Contains(out, "app\t(ocf:pacemaker:Dummy):\t Started "+second[0]) ||
		!strings.Contains(out, "Failed Resource Actions:") || !strings.Contains(out, "app_monitor_1000 on "+second[0]+" 'not running' (7)") ||
		!strings.Contains(out, "fail-count=1") {
		t.Errorf("status after recovery:\n%s", out)
	}
	run("resource", "cleanup", "app")
	if out := run("status"); strings.Contains(out, "Failed Resource Actions:") {
		t.Errorf("cleanup left failed actions:\n%s", out)
	}

	// The group's node dies: everything it ran dies with it.
	victim := c.Node(second[0])
	victim.Kill()
	for _, rsc := range []string{"ip", "app"} {
		os.Remove(filepath.Join(victim.Dir, "data", "dummy", "Dummy-"+rsc+".state"))
	}
	var survivor *testbed.Node
	for _, nd := range c.Nodes {
		if nd != victim {
			survivor = nd
			break
		}
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		ip, app := activeOn(c, "ip"), activeOn(c, "app")
		if len(ip) == 1 && ip[0] != victim.Name && strings.Join(app, ",") == ip[0] {
			break
		}
		if time.Now().After(deadline) {
			out, _, _ := c.Pcsctl(survivor, "status")
			t.Fatalf("group not recovered after %s died: ip %v app %v\n%s", victim.Name, ip, app, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The executor's endpoints answer for the node that runs a resource.
func TestExecutorEndpoints(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[0]
	if _, e, code := c.Pcsctl(n, "property", "set", "stonith-enabled=false"); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := c.Pcsctl(n, "resource", "create", "d1", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--wait=30s"); code != 0 {
		t.Fatal(e)
	}
	on := activeOn(c, "d1")
	if len(on) != 1 {
		t.Fatalf("d1 active on %v", on)
	}
	cl := c.Node(on[0]).Client()
	defer cl.Close()
	act, err := cl.Active(ctx(t))
	if err != nil || len(act.Resources) != 1 || act.Resources[0] != "d1" {
		t.Errorf("active on %s: %+v %v", on[0], act, err)
	}
	x, err := cl.CIB(ctx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := cl.Probe(ctx(t), []cib.Primitive{*x.CIB.Config.Primitive("d1")})
	if err != nil || probe["d1"].RC != 0 {
		t.Errorf("probe on the running node: %+v %v", probe, err)
	}
	// debug-monitor through pcsctl on a node that does not run it says so.
	var other *testbed.Node
	for _, nd := range c.Nodes {
		if nd.Name != on[0] {
			other = nd
		}
	}
	out, _, code := c.Pcsctl(other, "resource", "debug-monitor", "d1")
	if code != 0 || !strings.Contains(out, "returned: 'not running' (7)") {
		t.Errorf("debug-monitor on %s: %d %q", other.Name, code, out)
	}
	out, _, code = c.Pcsctl(c.Node(on[0]), "resource", "debug-monitor", "d1", "--full")
	if code != 0 || !strings.Contains(out, "returned: 'ok' (0)") {
		t.Errorf("debug-monitor on %s: %d %q", on[0], code, out)
	}
	out, _, code = c.Pcsctl(n, "resource", "describe", "ocf:heartbeat:IPaddr2")
	if code != 0 || !strings.Contains(out, "ip (required") {
		t.Errorf("describe IPaddr2: %d\n%s", code, out)
	}
	out, _, code = c.Pcsctl(n, "resource", "agents", "ocf:pacemaker")
	if code != 0 || !strings.Contains(out, "ocf:pacemaker:Dummy") {
		t.Errorf("agents ocf:pacemaker: %d\n%s", code, out)
	}
}
