package ocf

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/agents"
)

// fakeRoot makes an OCF_ROOT with one provider "test" holding the given
// scripts (name -> shell body).
func fakeRoot(t *testing.T, scripts map[string]string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestEnvironmentIsPacemakers(t *testing.T) {
	root := fakeRoot(t, map[string]string{"env": "env | sort\nexit 0\n"})
	r := NewRunner(Options{Root: root, Env: []string{"HA_debug=0"}})
	res := r.Agent("test", "env").Monitor(context.Background(), agents.Request{
		Resource: "vip:1",
		Params:   map[string]string{"ip": "10.0.0.5", "OCF_CHECK_LEVEL": "10"},
		Meta:     map[string]string{"clone-max": "2", "target-role": "Started"},
		Interval: 10 * time.Second,
		Timeout:  1500 * time.Millisecond,
		Node:     "node1",
	})
	if !res.Succeeded() {
		t.Fatalf("monitor: %s\n%s", res, res.Stderr)
	}
	want := []string{
		"OCF_ROOT=" + root,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_EXIT_REASON_PREFIX=ocf-exit-reason:",
		"OCF_RESOURCE_INSTANCE=vip:1",
		"OCF_RESOURCE_TYPE=env",
		"OCF_RESOURCE_PROVIDER=test",
		"OCF_RESKEY_ip=10.0.0.5",
		"OCF_RESKEY_OCF_CHECK_LEVEL=10",
		"OCF_RESKEY_CRM_meta_clone_max=2",
		"OCF_RESKEY_CRM_meta_target_role=Started",
		"OCF_RESKEY_CRM_meta_interval=10000",
		"OCF_RESKEY_CRM_meta_timeout=1500",
		"OCF_RESKEY_CRM_meta_name=monitor",
		"OCF_RESKEY_CRM_meta_on_node=node1",
		"OCF_RESKEY_crm_feature_set=" + DefaultFeatureSet,
		"HA_debug=0",
		"PATH=" + DefaultPath,
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(res.Output, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("environment lacks %q; got:\n%s", w, res.Output)
		}
	}
}

func TestExitCodesAndReason(t *testing.T) {
	root := fakeRoot(t, map[string]string{
		"conf":  "echo starting\necho 'ocf-exit-reason:first' >&2\necho 'ocf-exit-reason:IP address (the ip parameter) is mandatory' >&2\nexit 6\n",
		"odd":   "exit 42\n",
		"sig":   "kill -TERM $$\n",
		"norun": "case $1 in monitor) exit 7;; esac\nexit 3\n",
	})
	r := NewRunner(Options{Root: root})
	ctx := context.Background()
	cases := []struct {
		agent, action string
		code          agents.Code
		status        agents.Status
		reason        string
	}{
		{"conf", "start", agents.ErrNotConfigured, agents.StatusDone, "IP address (the ip parameter) is mandatory"},
		{"odd", "start", agents.ErrGeneric, agents.StatusDone, ""},
		{"sig", "start", agents.ErrGeneric, agents.StatusError, "agent terminated by signal terminated"},
		{"norun", "monitor", agents.NotRunning, agents.StatusDone, ""},
		{"norun", "promote", agents.ErrUnimplemented, agents.StatusDone, ""},
		{"missing", "start", agents.ErrNotInstalled, agents.StatusNotInstalled, "agent ocf:test:missing is not installed"},
	}
	for _, c := range cases {
		res := r.Agent("test", c.agent).(*Agent).Run(ctx, c.action, agents.Request{Resource: "r"})
		if res.Code != c.code || res.Status != c.status || !strings.HasPrefix(res.Reason, c.reason) {
			t.Errorf("%s %s: got %s, want code %d status %s reason %q", c.agent, c.action, res, c.code, c.status, c.reason)
		}
	}
	if res := r.Agent("..", "x").Start(ctx, agents.Request{}); res.Code != agents.ErrNotInstalled {
		t.Errorf("path escape: got %s", res)
	}
}

// TestTimeoutKillsProcessGroup: a script that hangs, with a child of its
// own, is killed as a whole at the timeout and reported as timed out.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	root := fakeRoot(t, map[string]string{
		"hang": "sleep 300 &\necho $! > " + pidfile + "\necho working\nsleep 300\n",
	})
	r := NewRunner(Options{Root: root})
	start := time.Now()
	res := r.Agent("test", "hang").Start(context.Background(), agents.Request{Resource: "h", Timeout: 1500 * time.Millisecond})
	took := time.Since(start)
	if res.Status != agents.StatusTimeout || res.Code != agents.ErrGeneric {
		t.Fatalf("got %s, want a timeout", res)
	}
	if !strings.Contains(res.Reason, "hang start did not complete within 1.5s") || res.Output != "working\n" {
		t.Errorf("reason %q output %q", res.Reason, res.Output)
	}
	if took > 5*time.Second {
		t.Errorf("returned after %s", took)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(child, 0) == nil && !isZombie(child) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("the script's child %d survived the timeout", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// TestBackgroundChildDoesNotBlock: a script that leaves a child holding
// stderr (IPaddr2's send_arp) completes when the script exits.
func TestBackgroundChildDoesNotBlock(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "bg.pid")
	root := fakeRoot(t, map[string]string{
		"bg": "(sleep 5; echo late) >&2 &\necho $! > " + pidfile + "\nexit 0\n",
	})
	r := NewRunner(Options{Root: root})
	start := time.Now()
	res := r.Agent("test", "bg").Start(context.Background(), agents.Request{Resource: "b", Timeout: 10 * time.Second})
	if !res.Succeeded() {
		t.Fatalf("got %s", res)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("start waited %s for a background child", took)
	}
	if b, err := os.ReadFile(pidfile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL) // ours: started by the script above
		}
	}
}

func TestOutputTailAndReasonScan(t *testing.T) {
	tb := newTail(8, true)
	_, _ = tb.Write([]byte("ocf-exit-reason:ear"))
	_, _ = tb.Write([]byte("ly\nlots of text after\nocf-exit-reason:"))
	_, _ = tb.Write([]byte("last one"))
	if got := tb.Reason(); got != "last one" {
		t.Errorf("reason %q", got)
	}
	if got := tb.String(); got != "[...]last one" {
		t.Errorf("tail %q", got)
	}
}

func TestListAndInstalled(t *testing.T) {
	root := fakeRoot(t, map[string]string{"a": "exit 0\n", ".hidden": "exit 0\n"})
	if err := os.WriteFile(filepath.Join(root, "resource.d", "test", "noexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRunner(Options{Root: root})
	list, err := r.List("")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].String() != "ocf:test:a" {
		t.Errorf("list = %v", list)
	}
	if r.Installed("test", "noexec") || !r.Installed("test", "a") {
		t.Error("Installed wrong")
	}
}
