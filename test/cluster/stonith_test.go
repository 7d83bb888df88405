package cluster_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
)

// Fencing through pacerd with a real external agent (Debian's
// fence_dummy, which powers nothing off): pcsctl stonith fence runs on the
// DC, every attempt lands in the fence history, and the fenced node is
// recorded as down and then probed afresh when it shows up alive.
func TestStonithFenceThroughDC(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/fence_dummy"); err != nil {
		t.Skip("fence_dummy not installed (Debian package fence-agents)")
	}
	c, leader := startCluster(t, 3, "")
	var victim, via string
	for _, n := range c.Nodes {
		switch {
		case n.Name == leader:
		case victim == "":
			victim = n.Name
		default:
			via = n.Name
		}
	}
	n := c.Node(via) // asked through a node that is not the DC: forwarded
	run := func(args ...string) string {
		t.Helper()
		out, e, code := c.Pcsctl(n, args...)
		if code != 0 {
			t.Fatalf("pcsctl %v: exit %d: %s", args, code, e)
		}
		return out
	}
	run("stonith", "create", "dummyfence", "fence_dummy", "pcmk_host_list=node1 node2 node3")
	if out := run("stonith", "config"); !strings.Contains(out, "Resource: dummyfence (stonith:fence_dummy)") {
		t.Errorf("stonith config:\n%s", out)
	}
	// The device is placed like a resource and its monitor really asks it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		x, _, _ := c.Pcsctl(n, "cib", "export", "--json")
		if strings.Contains(x, `"id": "dummyfence_monitor_60000"`) && strings.Contains(x, "fencing device answers") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no monitor of the fencing device recorded:\n%s", x)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := run("stonith", "status"); !strings.Contains(out, "dummyfence\t(stonith:fence_dummy):\t Started node") || !strings.Contains(out, ": fencing device answers)") {
		x, _, _ := c.Pcsctl(n, "cib", "export", "--json")
		t.Errorf("stonith status:\n%s\nCIB:\n%s", out, x)
	}
	if out := run("stonith", "verify"); !strings.Contains(out, "OK   device dummyfence: answers") || !strings.Contains(out, "OK   node node3: fenceable by [dummyfence (plug node3)]") {
		t.Errorf("stonith verify:\n%s", out)
	}
	if out := run("stonith", "describe", "fence_dummy"); !strings.Contains(out, "Stonith options:") {
		t.Errorf("stonith describe:\n%s", out)
	}
	if _, e, code := c.Pcsctl(n, "stonith", "confirm", victim); code == 0 || !strings.Contains(e, "WARNING") {
		t.Errorf("confirm without --force must refuse with a warning: %d %s", code, e)
	}
	out := run("stonith", "fence", victim, "--off")
	if !strings.Contains(out, "Node: "+victim+" fenced (off)") || !strings.Contains(out, "off via dummyfence: ok") {
		t.Errorf("stonith fence:\n%s", out)
	}
	var hist []cib.FenceEvent
	if err := json.Unmarshal([]byte(run("stonith", "history", victim, "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Result != "ok" || hist[0].Device != "dummyfence" || hist[0].Executor != leader || hist[0].Origin != "pcsctl" {
		t.Errorf("fence history %+v", hist)
	}
	if _, e, code := c.Pcsctl(n, "stonith", "fence", "nosuchnode"); code == 0 || !strings.Contains(e, "no fencing device can reach") {
		t.Errorf("fencing an unknown node: %d %s", code, e)
	}
	// fence_dummy did not really stop the victim: it is seen alive and
	// taken back as a member.
	deadline = time.Now().Add(20 * time.Second)
	for {
		st, _, _ := c.Pcsctl(n, "status")
		if strings.Contains(st, "Online: [ node1 node2 node3 ]") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fenced (but alive) node never came back:\n%s", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
