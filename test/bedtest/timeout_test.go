package bedtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
	"pacer/test/bed"
)

// hangScript is an OCF agent whose start never ends: it leaves a child
// (sleep) that writes its PID, so the test can check that the timeout
// killed the agent's whole process group and not only the script.
const hangScript = `#!/bin/sh
case "$1" in
meta-data)
	echo '<?xml version="1.0"?><resource-agent name="Hang" version="1"><parameters>
<parameter name="pidfile" required="1"><content type="string"/></parameter></parameters>
<actions><action name="start" timeout="1s"/><action name="stop" timeout="5s"/><action name="monitor" timeout="5s"/><action name="meta-data" timeout="5s"/></actions></resource-agent>'
	exit 0 ;;
start)
	sleep 300 &
	echo $! > "$OCF_RESKEY_pidfile"
	wait
	exit 0 ;;
stop) exit 0 ;;
monitor) exit 7 ;;
*) exit 3 ;;
esac
`

// TestTimeouts: an agent that hangs is killed at its timeout and the
// executor records it as such (rc 1, op_status 2 = timed out, exec time
// about the timeout). Three hanging agents: an OCF script written for the
// test (whose background child must die with it, proving the whole
// process group was killed), the real ocf:pacemaker:Dummy with
// op_sleep, and the native Dummy with op_sleep. All run for node1,
// inside its network namespace.
func TestTimeouts(t *testing.T) {
	b := bed.Up(t, bed.Options{Nodes: 1, NoHaproxy: true})
	n := b.Nodes[0]
	root := t.TempDir()
	script := filepath.Join(root, "resource.d", "bedtest", "Hang")
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(hangScript), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := n.AgentConfig()
	cfg.OCF.Root = root // outside the node's mount namespace: enter only its network
	cfg.OCF.Wrapper = []string{"nsenter", "--net=" + n.NetNS(), "--"}
	exHang, _ := n.Executor(t, cfg)
	ex, _ := n.Executor(t, n.AgentConfig())

	timedOut := func(t *testing.T, rec cib.OpRecord, timeout time.Duration) {
		t.Helper()
		if rec.OpStatus != 2 || rec.RC != 1 {
			t.Fatalf("rc %d op_status %d, want rc 1 op_status 2 (timed out): %s", rec.RC, rec.OpStatus, rec.Output)
		}
		exec := time.Duration(rec.ExecTimeMS) * time.Millisecond
		if exec < timeout-50*time.Millisecond || exec > timeout+3*time.Second {
			t.Fatalf("exec time %s for a %s timeout", exec, timeout)
		}
		t.Logf("timed out after %s: %s", exec, rec.Output)
	}

	t.Run("script", func(t *testing.T) {
		pidfile := filepath.Join(t.TempDir(), "sleep.pid")
		p := cib.Primitive{ID: "hang", Class: "ocf", Provider: "bedtest", Type: "Hang", Params: map[string]string{"pidfile": pidfile}}
		rec := run(t, exHang, p, agents.ActionStart, time.Second)
		timedOut(t, rec, time.Second)
		if !strings.Contains(rec.Output, "did not complete within 1s") {
			t.Errorf("output %q does not say it timed out", rec.Output)
		}
		b, err := os.ReadFile(pidfile)
		if err != nil {
			t.Fatalf("the script did not get as far as its child: %v", err)
		}
		child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		deadline := time.Now().Add(2 * time.Second)
		for running(child) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if running(child) {
			t.Fatalf("the script's child %d (sleep 300) survived the timeout", child)
		}
		if fc := exHang.FailCounts("hang"); fc["start_0"] != 1 {
			t.Errorf("fail counts %v, want start_0: 1", fc)
		}
	})
	t.Run("dummy-script", func(t *testing.T) {
		requireScript(t, "pacemaker", "Dummy") // heartbeat's Dummy has no op_sleep
		p := dummyPrim("slow", agents.ImplScript)
		p.Provider = "pacemaker"
		p.Params = map[string]string{"op_sleep": "30"}
		timedOut(t, run(t, ex, p, agents.ActionStart, time.Second), time.Second)
	})
	t.Run("dummy-native", func(t *testing.T) {
		p := dummyPrim("slow-native", agents.ImplNative)
		p.Params = map[string]string{"op_sleep": "30"}
		timedOut(t, run(t, ex, p, agents.ActionStart, time.Second), time.Second)
	})
}

// TestBadParams: bad parameters come back as the agent says (rc 2 or 6)
// with the agent's own message in the op record's output, for the
// native IPaddr2, the IPaddr2 script (start) and the Dummy script
// (validate-all), run for node1.
// Nothing is left on node1's interface.
func TestBadParams(t *testing.T) {
	b := bed.Up(t, bed.Options{Nodes: 1, NoHaproxy: true})
	n := b.Nodes[0]
	ex, _ := n.Executor(t, n.AgentConfig())
	cases := []struct {
		name   string
		impl   string
		params map[string]string
		rcs    []int
		says   string // in the output (lower case)
	}{
		{"native-no-ip", agents.ImplNative, map[string]string{"nic": bed.IfName}, []int{6}, "ip"},
		{"native-bad-ip", agents.ImplNative, map[string]string{"ip": b.Prefix + ".300"}, []int{2, 6}, b.Prefix + ".300"},
		{"native-bad-netmask", agents.ImplNative, map[string]string{"ip": b.VIP(9), "cidr_netmask": "99"}, []int{2, 6}, "99"},
		{"native-no-such-nic", agents.ImplNative, map[string]string{"ip": b.VIP(9), "nic": "nosuch0"}, []int{2, 6}, "nosuch0"},
		{"script-no-ip", agents.ImplScript, map[string]string{"nic": bed.IfName}, []int{6}, "mandatory"},
		{"script-bad-ip", agents.ImplScript, map[string]string{"ip": b.Prefix + ".300"}, []int{2, 6}, b.Prefix + ".300"},
		{"script-no-such-nic", agents.ImplScript, map[string]string{"ip": b.VIP(9), "nic": "nosuch0"}, []int{2, 6}, "nosuch0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.impl == agents.ImplScript {
				requireScript(t, "heartbeat", "IPaddr2")
			}
			p := cib.Primitive{ID: "vip-" + c.name, Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
				Params: c.params, Meta: map[string]string{agents.MetaImplementation: c.impl}}
			rec := run(t, ex, p, agents.ActionStart, 20*time.Second)
			ok := false
			for _, rc := range c.rcs {
				ok = ok || rec.RC == rc
			}
			if !ok || rec.OpStatus != 0 {
				t.Fatalf("rc %d op_status %d, want rc %v completed: %s", rec.RC, rec.OpStatus, c.rcs, rec.Output)
			}
			if !strings.Contains(strings.ToLower(rec.Output), strings.ToLower(c.says)) {
				t.Fatalf("output does not carry the agent's message (want %q): %q", c.says, rec.Output)
			}
			t.Logf("rc %d: %s", rec.RC, firstLine(rec.Output))
		})
	}
	t.Run("dummy-script-bad-state", func(t *testing.T) {
		requireScript(t, "heartbeat", "Dummy")
		p := dummyPrim("bad-dummy", agents.ImplScript)
		p.Params = map[string]string{"state": "/nonexistent-dir/sub/dummy.state"}
		rec := run(t, ex, p, agents.ActionValidate, 20*time.Second)
		if rec.RC != 2 || !strings.Contains(rec.Output, "is not writable") {
			t.Fatalf("validate-all: rc %d, want 2 with the agent's message: %s", rec.RC, rec.Output)
		}
		t.Logf("rc %d: %s", rec.RC, firstLine(rec.Output))
	})
	if out := n.Must(t, "ip", "-o", "-4", "addr", "show", "dev", bed.IfName); strings.Count(out, "inet ") != 1 {
		t.Errorf("node1's eth0 after failed starts:\n%s", out)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}
