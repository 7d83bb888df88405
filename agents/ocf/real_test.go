package ocf

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/agents"
	"pacer/test/netns"
)

// requireAgent skips unless the real script is installed.
func requireAgent(t *testing.T, provider, typ, pkg string) *Runner {
	t.Helper()
	r := NewRunner(Options{})
	if !r.Installed(provider, typ) {
		t.Skipf("needs Debian package %s (ocf:%s:%s not installed)", pkg, provider, typ)
	}
	return r
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func mustCode(t *testing.T, what string, res agents.Result, want agents.Code) {
	t.Helper()
	if res.Status != agents.StatusDone || res.Code != want {
		t.Fatalf("%s: got %s, want %s\nstdout: %s\nstderr: %s", what, res, want, res.Output, res.Stderr)
	}
}

// TestRealDummy drives ocf:heartbeat:Dummy through its life cycle.
func TestRealDummy(t *testing.T) {
	r := requireAgent(t, "heartbeat", "Dummy", "resource-agents")
	a := r.Agent("heartbeat", "Dummy")
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "dummy.state")
	req := agents.Request{Resource: "d1", Params: map[string]string{"state": state}, Timeout: 20 * time.Second}

	mustCode(t, "probe", a.Monitor(ctx, req), agents.NotRunning)
	mustCode(t, "validate", a.Validate(ctx, req), agents.OK)
	mustCode(t, "start", a.Start(ctx, req), agents.OK)
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("start made no state file: %v", err)
	}
	mustCode(t, "start again", a.Start(ctx, req), agents.OK)
	req.Interval = 10 * time.Second
	mustCode(t, "monitor", a.Monitor(ctx, req), agents.OK)
	mustCode(t, "stop", a.Stop(ctx, req), agents.OK)
	mustCode(t, "stop again", a.Stop(ctx, req), agents.OK)
	mustCode(t, "monitor after stop", a.Monitor(ctx, req), agents.NotRunning)

	md, err := a.MetaData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := md.Param("state"); !ok || !p.Unique {
		t.Errorf("state param: %+v %v", p, ok)
	}
	if act, ok := md.Action("start"); !ok || act.Timeout != 20*time.Second {
		t.Errorf("start action: %+v", act)
	}
}

// TestRealIPaddr2 runs the real ocf:heartbeat:IPaddr2 inside a network
// namespace made for the test (through nsenter as the runner's wrapper).
func TestRealIPaddr2(t *testing.T) {
	r0 := requireAgent(t, "heartbeat", "IPaddr2", "resource-agents")
	netns.Require(t)
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("needs nsenter from Debian package util-linux")
	}
	a, b := netns.New(t), netns.New(t)
	netns.Veth(t, a, "ra0", "198.51.100.1/24", b, "rb0", "198.51.100.2/24")
	r := NewRunner(Options{Root: r0.Root(), Wrapper: []string{"nsenter", "--net=" + a.Path(), "--"}})
	ag := r.Agent("heartbeat", "IPaddr2")
	ctx := context.Background()
	req := agents.Request{Resource: "vip", Timeout: 20 * time.Second,
		Params: map[string]string{"ip": "198.51.100.100", "cidr_netmask": "24", "nic": "ra0", "arp_count": "2"}}

	mustCode(t, "probe", ag.Monitor(ctx, req), agents.NotRunning)
	mustCode(t, "start", ag.Start(ctx, req), agents.OK)
	if out := a.Must(t, "ip", "-o", "-4", "addr", "show", "dev", "ra0"); !strings.Contains(out, "inet 198.51.100.100/24 ") {
		t.Fatalf("VIP not on ra0 after start:\n%s", out)
	}
	req.Interval = 10 * time.Second
	mustCode(t, "monitor", ag.Monitor(ctx, req), agents.OK)
	mustCode(t, "start again", ag.Start(ctx, req), agents.OK)
	mustCode(t, "stop", ag.Stop(ctx, req), agents.OK)
	if out := a.Must(t, "ip", "-o", "-4", "addr", "show", "dev", "ra0"); strings.Contains(out, "198.51.100.100") {
		t.Fatalf("VIP still on ra0 after stop:\n%s", out)
	}
	mustCode(t, "monitor after stop", ag.Monitor(ctx, req), agents.NotRunning)
	mustCode(t, "stop again", ag.Stop(ctx, req), agents.OK)

	// Bad parameters come back as the agent says, with its reason.
	bad := ag.Start(ctx, agents.Request{Resource: "vip", Params: map[string]string{"nic": "ra0"}})
	if bad.Code != agents.ErrNotConfigured || !strings.Contains(bad.Reason, "mandatory") {
		t.Errorf("start without ip: %s", bad)
	}
	bad = ag.Start(ctx, agents.Request{Resource: "vip", Params: map[string]string{"ip": "198.51.100.300"}})
	if bad.Code != agents.ErrNotConfigured && bad.Code != agents.ErrArgs {
		t.Errorf("start with a bad ip: %s", bad)
	}
}

// TestRealFilesystem mounts an ext4 loop device with ocf:heartbeat:Filesystem
// inside a private mount namespace held by a process the test starts, so the
// host's mount table is never touched.
func TestRealFilesystem(t *testing.T) {
	r0 := requireAgent(t, "heartbeat", "Filesystem", "resource-agents")
	requireRoot(t)
	for _, tool := range []string{"losetup", "mkfs.ext4", "unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages mount, e2fsprogs, util-linux)", tool)
		}
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("truncate", "-s", "16M", img).CombinedOutput(); err != nil {
		t.Fatalf("truncate: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device available: %v %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })

	holder := startMountHolder(t)
	r := NewRunner(Options{Root: r0.Root(), Wrapper: []string{"nsenter", "-t", strconv.Itoa(holder), "-m", "--"}})
	ag := r.Agent("heartbeat", "Filesystem")
	ctx := context.Background()
	req := agents.Request{Resource: "fs", Timeout: 60 * time.Second,
		Params: map[string]string{"device": loop, "directory": mnt, "fstype": "ext4"}}
	mounted := func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(holder) + "/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(b), " "+mnt+" ")
	}

	mustCode(t, "probe", ag.Monitor(ctx, req), agents.NotRunning)
	mustCode(t, "start", ag.Start(ctx, req), agents.OK)
	if !mounted() {
		t.Fatal("not mounted after start")
	}
	req.Interval = 20 * time.Second
	mustCode(t, "monitor", ag.Monitor(ctx, req), agents.OK)
	mustCode(t, "stop", ag.Stop(ctx, req), agents.OK)
	if mounted() {
		t.Fatal("still mounted after stop")
	}
	mustCode(t, "monitor after stop", ag.Monitor(ctx, req), agents.NotRunning)
	if bad := ag.Start(ctx, agents.Request{Resource: "fs", Params: map[string]string{"device": loop}}); bad.Code != agents.ErrNotConfigured {
		t.Errorf("start without directory: %s", bad)
	}
}

// startMountHolder starts `unshare --mount sleep` and returns its PID once
// it runs in its own mount namespace; cleanup kills it, which unmounts
// everything mounted in there.
func startMountHolder(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	self, _ := os.Readlink("/proc/self/ns/mnt")
	for i := 0; i < 500; i++ {
		ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err == nil && ns != self && strings.HasSuffix(exe, "/sleep") {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("mount namespace holder did not start")
	return 0
}
