package cluster_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"pacer/test/testbed"
)

// alertRecorder writes an alert agent that stores each call's CRM_alert_*
// environment in its own file under dir.
func alertRecorder(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "record.sh")
	script := "#!/bin/sh\nf=\"" + dir + "/call.$(date +%s%N).$$\"\nenv | grep '^CRM_alert_' | sort > \"$f.tmp\" && mv \"$f.tmp\" \"$f\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

type alertCall map[string]string

func readAlertCalls(t *testing.T, dir string) []alertCall {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "call.*"))
	sort.Strings(files)
	var out []alertCall
	for _, f := range files {
		if strings.HasSuffix(f, ".tmp") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		c := alertCall{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			c[strings.TrimPrefix(k, "CRM_alert_")] = v
		}
		out = append(out, c)
	}
	return out
}

// waitAlerts waits until at least n recorded calls match every key=value
// of want, and returns them.
func waitAlerts(t *testing.T, dir string, n int, want map[string]string) []alertCall {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got []alertCall
		all := readAlertCalls(t, dir)
		for _, c := range all {
			ok := true
			for k, v := range want {
				ok = ok && c[k] == v
			}
			if ok {
				got = append(got, c)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("wanted %d alert calls matching %v, got %d; all calls:\n%v", n, want, len(got), all)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Pacemaker's alert agent contract through pacerd: resource operations
// are alerted by the node that ran them, a lost node by every node that
// sees it go, a fencing by every node.
func TestAlertsLive(t *testing.T) {
	c, leader := startCluster(t, 3, "")
	dir, script := alertRecorder(t)
	n := c.Node(leader)
	run := func(args ...string) string { t.Helper(); return pcsOK(t, c, n, args...) }
	run("property", "set", "stonith-enabled=false")
	run("alert", "create", "path="+script, "id=rec", "description=records calls", "meta", "timestamp-format=%Y-%m-%d %H:%M:%S.%3N")
	run("alert", "recipient", "add", "rec", "value=ops@example.com")
	if _, e, code := c.Pcsctl(n, "alert", "recipient", "add", "rec", "value=ops@example.com"); code == 0 || !strings.Contains(e, "--force") {
		t.Errorf("a duplicate recipient must need --force: %d %s", code, e)
	}
	if _, e, code := c.Pcsctl(n, "alert", "create", "path=notify.sh"); code == 0 || !strings.Contains(e, "absolute path") {
		t.Errorf("a relative path must be refused: %d %s", code, e)
	}
	if out := run("alert", "config"); !strings.Contains(out, "Alert: rec\n  Description: records calls\n  Path: "+script+"\n  Recipients:\n    Recipient: rec-recipient\n      Value: ops@example.com\n") {
		t.Errorf("alert config:\n%s", out)
	}

	// A resource start is alerted by the node that started it.
	run("resource", "create", "web", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "op", "monitor", "interval=1s", "--wait=30s")
	on := activeOn(c, "web")
	if len(on) != 1 {
		t.Fatalf("web on %v", on)
	}
	start := waitAlerts(t, dir, 1, map[string]string{"kind": "resource", "rsc": "web", "task": "start"})[0]
	for k, v := range map[string]string{"node": on[0], "interval": "0", "rc": "0", "target_rc": "0", "status": "0", "desc": "OK",
		"recipient": "ops@example.com", "version": "0.1.0-dev"} {
		if start[k] != v {
			t.Errorf("start alert %s=%q, want %q (%v)", k, start[k], v, start)
		}
	}
	if len(start["timestamp"]) != len("2006-01-02 15:04:05.000") || start["node_sequence"] == "" || start["exec_time"] == "" {
		t.Errorf("start alert timestamp/sequence/exec_time: %v", start)
	}
	waitAlerts(t, dir, 1, map[string]string{"kind": "resource", "rsc": "web", "task": "monitor", "interval": "1000", "rc": "0"})

	// Standby moves it: a stop alert from the old node, a start from the new.
	run("node", "standby", on[0], "--wait=30s")
	waitAlerts(t, dir, 1, map[string]string{"kind": "resource", "rsc": "web", "task": "stop", "node": on[0], "rc": "0"})
	moved := activeOn(c, "web")
	if len(moved) != 1 {
		t.Fatalf("web on %v after standby", moved)
	}
	waitAlerts(t, dir, 1, map[string]string{"kind": "resource", "rsc": "web", "task": "start", "node": moved[0]})

	// Fencing (with fence_dummy, which powers nothing off) is alerted by
	// every node.
	var victim *testbed.Node
	for _, nd := range c.Nodes {
		if nd.Name != leader {
			victim = nd
		}
	}
	if _, err := os.Stat("/usr/sbin/fence_dummy"); err != nil {
		t.Log("fence_dummy not installed (Debian package fence-agents): fencing alerts not checked")
	} else {
		run("stonith", "create", "dummyfence", "fence_dummy", "pcmk_host_list=node1 node2 node3")
		run("stonith", "fence", victim.Name, "--off")
		got := waitAlerts(t, dir, 3, map[string]string{"kind": "fencing", "node": victim.Name})
		want := "Operation off of " + victim.Name + " by " + leader + " for pcsctl@" + leader + ": OK"
		if got[0]["task"] != "st_notify_fence" || got[0]["rc"] != "0" || got[0]["desc"] != want {
			t.Errorf("fencing alert %v, want desc %q", got[0], want)
		}
	}

	// A node that dies is alerted as lost by the two that remain.
	victim.Kill()
	lost := waitAlerts(t, dir, 2, map[string]string{"kind": "node", "node": victim.Name, "desc": "lost"})
	if lost[0]["nodeid"] == "" {
		t.Errorf("node alert without CRM_alert_nodeid: %v", lost[0])
	}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	waitAlerts(t, dir, 2, map[string]string{"kind": "node", "node": victim.Name, "desc": "member"})

	run("alert", "delete", "rec")
	if out := run("alert"); !strings.Contains(out, "No alerts defined") {
		t.Errorf("after delete:\n%s", out)
	}
}
