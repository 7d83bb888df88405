package bedtest

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/agents"
	"pacer/resources"
	"pacer/test/bed"
)

// TestHaproxyBehindVIP runs the textbook pair on one bed node through the
// executor: a native IPaddr2 VIP and systemd:haproxy, started over D-Bus
// by the node's own systemd. It proves: the client gets haproxy's answer
// through the VIP; a recurring monitor with a watch is in place; SIGKILL
// of haproxy's main process (its host PID) is reported by the watch as
// an executor event with source "watch" and rc 7, well before the 60 s
// monitor interval; a monitor then says 7 and systemd did not restart
// haproxy (the agent's Restart=no drop-in); stop leaves the unit
// inactive.
func TestHaproxyBehindVIP(t *testing.T) {
	requireHaproxy(t)
	b := bed.Up(t, bed.Options{Nodes: 1})
	n := b.Nodes[0]
	ex, _ := n.Executor(t, n.AgentConfig())
	vip := vipPrim("vip", b.VIP(0), agents.ImplNative)
	web := haproxyPrim("web")

	must(t, ex, vip, agents.ActionStart, 0)
	must(t, ex, web, agents.ActionMonitor, 7) // probe
	must(t, ex, web, agents.ActionStart, 0)
	body, err := b.Client.WaitGet(b.VIP(0)+":8080", 5*time.Second)
	if err != nil || body != "haproxy ok from node1\n" {
		t.Fatalf("client GET through the VIP: %q %v", body, err)
	}

	mon := resources.Action{Primitive: web, Op: agents.ActionMonitor, Interval: 60 * time.Second, Timeout: 20 * time.Second}
	if rec, err := ex.Recur(context.Background(), mon); err != nil || rec.RC != 0 {
		t.Fatalf("recurring monitor: %+v %v", rec, err)
	}
	drain(ex)
	pid := mainPID(t, n)
	t0 := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill haproxy (host PID %d): %v", pid, err)
	}
	ev := waitEvent(t, ex, "web", "watch", 10*time.Second)
	took := time.Since(t0)
	if ev.Record.RC != 7 {
		t.Fatalf("watch event: rc %d (%s), want 7", ev.Record.RC, ev.Reason)
	}
	t.Logf("SIGKILL of haproxy (host PID %d) reported by the watch after %s: %s", pid, took.Round(time.Microsecond), ev.Reason)
	if rec := settle(t, ex, web); rec.RC != 7 {
		t.Fatalf("monitor after the kill: rc %d op_status %d: %s", rec.RC, rec.OpStatus, rec.Output)
	}
	time.Sleep(500 * time.Millisecond) // systemd would have restarted it by now
	must(t, ex, web, agents.ActionMonitor, 7)
	if _, err := b.Client.Get(b.VIP(0)+":8080", 300*time.Millisecond); err == nil {
		t.Fatal("haproxy still answers after SIGKILL")
	}

	ex.CancelAll("web")
	must(t, ex, web, agents.ActionStop, 0)
	if out, _ := n.Systemctl("is-active", "haproxy.service"); strings.TrimSpace(out) != "inactive" {
		t.Fatalf("after stop haproxy.service is %q, want inactive", strings.TrimSpace(out))
	}
	// And it comes back after a crash: start resets the failed state.
	must(t, ex, web, agents.ActionStart, 0)
	if body, err := b.Client.WaitGet(b.VIP(0)+":8080", 5*time.Second); err != nil || !strings.Contains(body, "node1") {
		t.Fatalf("client GET after restart: %q %v", body, err)
	}
	must(t, ex, web, agents.ActionStop, 0)
	must(t, ex, vip, agents.ActionStop, 0)
	if out, _ := n.Systemctl("is-active", "haproxy.service"); strings.TrimSpace(out) != "inactive" {
		t.Fatalf("after the final stop haproxy.service is %q", strings.TrimSpace(out))
	}
}

// mainPID returns the host PID of haproxy.service's main process.
func mainPID(tb testing.TB, n *bed.Node) int {
	tb.Helper()
	out, err := n.Systemctl("show", "-p", "MainPID", "--value", "haproxy.service")
	if err != nil {
		tb.Fatal(err)
	}
	var nsPID int
	if _, err := fmt.Sscan(strings.TrimSpace(out), &nsPID); err != nil || nsPID == 0 {
		tb.Fatalf("haproxy MainPID %q: %v", out, err)
	}
	pid, err := n.HostPID(nsPID)
	if err != nil {
		tb.Fatal(err)
	}
	return pid
}
