package systemdbed

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	HelperMain()
	os.Exit(m.Run())
}

// TestBootDialTeardown boots a node, talks to its systemd over D-Bus,
// starts a unit and tears everything down.
func TestBootDialTeardown(t *testing.T) {
	n := Boot(t, Options{Units: map[string]string{"sleeper.service": SleepUnit}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := n.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if v, err := conn.GetManagerProperty("Version"); err != nil || v == "" {
		t.Fatalf("Version %q %v", v, err)
	}
	done := make(chan string, 1)
	if _, err := conn.StartUnitContext(ctx, "sleeper.service", "replace", done); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r != "done" {
		t.Fatalf("start job: %s", r)
	}
	p, err := conn.GetServicePropertyContext(ctx, "sleeper.service", "MainPID")
	if err != nil {
		t.Fatal(err)
	}
	hostPID, err := n.HostPID(int(p.Value.Value().(uint32)))
	if err != nil {
		t.Fatal(err)
	}
	// A Type=simple unit is "started" once systemd has forked, which
	// may be just before the child execs sleep.
	exe := ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if exe, _ = os.Readlink("/proc/" + itoa(hostPID) + "/exe"); strings.HasSuffix(exe, "sleep") {
			break
		}
	}
	if !strings.HasSuffix(exe, "sleep") {
		t.Errorf("host pid %d is %s", hostPID, exe)
	}
	if out, err := n.Systemctl("is-active", "sleeper.service"); err != nil || strings.TrimSpace(out) != "active" {
		t.Errorf("systemctl: %q %v", out, err)
	}
	// postgresql or any other host unit is invisible.
	if _, err := n.Systemctl("cat", "ssh.service"); err == nil {
		t.Error("a host unit is visible in the node")
	}
	cg := n.cgroup
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left: %v", cg, err)
	}
	if _, err := os.Stat("/proc/" + itoa(hostPID)); err == nil && !zombie(hostPID) {
		t.Errorf("unit process %d survived teardown", hostPID)
	}
	n.cmd = nil // already closed
}

func itoa(i int) string { return strconv.Itoa(i) }

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
