// Package systemdbed boots a real systemd as PID 1 of fresh pid, mount,
// uts, ipc, net and cgroup namespaces for tests, with only the units the
// test gives it (haproxy.service from Debian when installed), and talks to
// it over its private D-Bus socket. Nothing is started on the host, nothing
// is written to the host's /run, /dev or /var/lib/systemd, and teardown
// kills only what Boot started (by PID, then by the node's own cgroup).
//
// The recipe and its pitfalls: shared/systemd-testbed/README.md.
//
// systemd refuses private-socket peers whose PID it cannot see, and a Go
// test cannot enter another pid namespace itself, so Dial re-runs the test
// binary under `nsenter -t PID -p` to connect and hand the connected
// sockets back. Packages that call Dial must call HelperMain first thing
// in their TestMain.
package systemdbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pacer/test/internal/bedstate"
	"pacer/test/netns"
)

// Options say what the node gets.
type Options struct {
	// Units are extra unit files (name -> content) in the node's unit path.
	Units map[string]string
	// NoHaproxy leaves haproxy.service out even when it is installed.
	NoHaproxy bool
	// Journal runs the node's own journald (slower boot; useful to debug).
	Journal bool
}

// Node is one booted systemd.
type Node struct {
	Name   string
	Dir    string // host-side work dir, /run/testbed/host inside
	PID    int    // host PID of the node's systemd
	cgroup string
	cmd    *exec.Cmd // the unshare process

	mu   sync.Mutex
	pool []net.Conn // connected private-socket connections not handed out yet
}

const cgPrefix = "pacer-sdbed-"

// Require skips the test unless a node can be booted here.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots systemd in new namespaces")
	}
	for _, bin := range []string{"unshare", "nsenter", "findmnt", "mknod", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (Debian packages util-linux, coreutils, iproute2)", bin)
		}
	}
	if _, err := os.Stat("/lib/systemd/systemd"); err != nil {
		t.Skip("needs /lib/systemd/systemd (Debian package systemd)")
	}
	if _, err := cgroupRoot(); err != nil {
		t.Skipf("needs a cgroup2 hierarchy: %v", err)
	}
}

// HaveHaproxy reports whether Debian's haproxy.service can be used.
func HaveHaproxy() bool {
	_, err1 := os.Stat("/lib/systemd/system/haproxy.service")
	_, err2 := exec.LookPath("haproxy")
	return err1 == nil && err2 == nil
}

func cgroupRoot() (string, error) {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st syscall.Statfs_t
		if syscall.Statfs(p, &st) == nil && st.Type == 0x63677270 { // CGROUP2_SUPER_MAGIC
			return p, nil
		}
	}
	return "", errors.New("no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified")
}

// Boot starts a node and registers its teardown with t.Cleanup. It fails
// the test if systemd does not reach testbed.target within 20 s.
func Boot(t testing.TB, opts Options) *Node {
	t.Helper()
	Require(t)
	sweep()
	var b [3]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	n, err := boot(name, t.TempDir(), opts)
	if n != nil {
		t.Cleanup(func() {
			if err := n.Close(); err != nil {
				t.Errorf("tear down systemd node %s: %v", n.Name, err)
			}
		})
	}
	if err != nil {
		t.Fatalf("boot systemd node: %v", err)
	}
	return n
}

func boot(name, dir string, opts Options) (*Node, error) {
	units := filepath.Join(dir, "units")
	if err := os.MkdirAll(filepath.Join(units, "testbed.target.wants"), 0o755); err != nil {
		return nil, err
	}
	write := func(rel, content string, mode os.FileMode) error {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), mode)
	}
	files := map[string]string{
		"units/testbed.target": "[Unit]\nDescription=pacer test bed node\n",
		"console.log":          "",
		"haproxy.cfg":          HaproxyConfig,
	}
	for _, s := range StubTargets {
		files["units/"+s+".target"] = "[Unit]\nDescription=" + s + ".target (test bed stub)\n"
	}
	for u, c := range opts.Units {
		files["units/"+u] = c
	}
	if !opts.NoHaproxy && HaveHaproxy() {
		files["units/haproxy.service.d/testbed.conf"] = HaproxyDropIn
	}
	for rel, c := range files {
		if err := write(rel, c, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", rel, err)
		}
	}
	if err := write("init.sh", initScript, 0o755); err != nil {
		return nil, fmt.Errorf("write init.sh: %w", err)
	}
	link := func(unit string) error {
		return os.Symlink("/lib/systemd/system/"+unit, filepath.Join(units, unit))
	}
	if !opts.NoHaproxy && HaveHaproxy() {
		if err := link("haproxy.service"); err != nil {
			return nil, err
		}
	}
	if opts.Journal {
		for _, u := range []string{"systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket"} {
			if err := link(u); err != nil {
				return nil, err
			}
		}
		if err := os.Symlink("../systemd-journald.service", filepath.Join(units, "testbed.target.wants", "systemd-journald.service")); err != nil {
			return nil, err
		}
	}

	root, err := cgroupRoot()
	if err != nil {
		return nil, err
	}
	n := &Node{Name: name, Dir: dir, cgroup: filepath.Join(root, cgPrefix+name)}
	if err := os.Mkdir(n.cgroup, 0o755); err != nil {
		return nil, fmt.Errorf("make cgroup: %w", err)
	}
	// Join the cgroup before unshare --cgroup, so that the node's cgroup
	// namespace is rooted there and nodes never share unit cgroups.
	logf, err := os.Create(filepath.Join(dir, "unshare.log"))
	if err != nil {
		return n, err
	}
	defer logf.Close()
	n.cmd = exec.Command("bash", "-c",
		`echo $$ > "$1/cgroup.procs" && exec unshare --cgroup --pid --fork --mount --uts --ipc --net --mount-proc "$2/init.sh" "$2" "$3"`,
		"_", n.cgroup, dir, name)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := n.cmd.Start(); err != nil {
		return n, fmt.Errorf("start unshare: %w", err)
	}
	upid := n.cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	for n.PID == 0 {
		if kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", upid, upid)); len(bytes.TrimSpace(kids)) > 0 {
			n.PID, _ = strconv.Atoi(strings.Fields(string(kids))[0])
		} else if time.Now().After(deadline) {
			return n, fmt.Errorf("no init under unshare %d: %s", upid, n.tail("unshare.log"))
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for {
		sock := fmt.Sprintf("/proc/%d/root/run/systemd/private", n.PID)
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if _, err := n.Systemctl("is-active", "-q", "testbed.target"); err == nil {
				return n, nil
			}
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("node %s (pid %d) did not reach testbed.target: %s", name, n.PID, n.tail("console.log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *Node) tail(file string) string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, file))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Systemctl runs systemctl against the node's systemd.
func (n *Node) Systemctl(args ...string) (string, error) {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(n.PID), "-m", "-p", "--", "systemctl"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// RuntimeUnitDir is the node's /run/systemd/system as seen from the host,
// where runtime drop-ins go.
func (n *Node) RuntimeUnitDir() string {
	return fmt.Sprintf("/proc/%d/root/run/systemd/system", n.PID)
}

// HostPID translates a PID of the node's pid namespace (a unit's MainPID)
// into the host's.
func (n *Node) HostPID(nsPID int) (int, error) {
	nodeNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n.PID))
	if err != nil {
		return 0, fmt.Errorf("node pid namespace: %w", err)
	}
	procs, err := os.ReadFile(filepath.Join(n.cgroup, "cgroup.procs"))
	var pids []string
	if err == nil {
		pids = strings.Fields(string(procs))
	}
	// Unit processes live in sub-cgroups; walk the node's subtree.
	_ = filepath.WalkDir(n.cgroup, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "cgroup.procs" && p != filepath.Join(n.cgroup, "cgroup.procs") {
			if b, err := os.ReadFile(p); err == nil {
				pids = append(pids, strings.Fields(string(b))...)
			}
		}
		return nil
	})
	for _, s := range pids {
		if ns, _ := os.Readlink("/proc/" + s + "/ns/pid"); ns != nodeNS {
			continue
		}
		st, err := os.ReadFile("/proc/" + s + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(st), "\n") {
			if f, ok := strings.CutPrefix(line, "NSpid:"); ok {
				if ids := strings.Fields(f); len(ids) > 0 && ids[len(ids)-1] == strconv.Itoa(nsPID) {
					return strconv.Atoi(s)
				}
			}
		}
	}
	return 0, fmt.Errorf("no process with PID %d in node %s", nsPID, n.Name)
}

// InNetNS runs fn on an OS thread inside the node's network namespace;
// sockets fn makes (a TCP connection to haproxy) stay there.
func (n *Node) InNetNS(fn func() error) error {
	return netns.DoPath(fmt.Sprintf("/proc/%d/ns/net", n.PID), fn)
}

// Close kills the node's systemd (the kernel then kills every process of
// its pid namespace), waits for unshare and removes the node's cgroups.
func (n *Node) Close() error {
	if n.cmd != nil && n.cmd.Process != nil {
		if n.PID > 0 && ppid(n.PID) == n.cmd.Process.Pid {
			_ = syscall.Kill(n.PID, syscall.SIGKILL)
		}
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("unshare %d did not exit", n.cmd.Process.Pid)
		}
	}
	n.mu.Lock()
	for _, c := range n.pool {
		c.Close()
	}
	n.pool = nil
	n.mu.Unlock()
	return RemoveCgroup(n.cgroup)
}

func ppid(pid int) int { return bedstate.PPID(pid) }

// RemoveCgroup kills what is left in a node's cgroup (cgroup.kill) and
// removes the subtree, deepest first. test/bed uses it for its own
// teardown too.
func RemoveCgroup(cg string) error {
	if cg == "" {
		return nil
	}
	if _, err := os.Stat(cg); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_ = os.WriteFile(filepath.Join(cg, "cgroup.kill"), []byte("1"), 0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var dirs []string
		_ = filepath.WalkDir(cg, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		var lastErr error
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				lastErr = err
			}
		}
		if lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", cg, lastErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sweep removes nodes left by test binaries that died: cgroups named
// pacer-sdbed-<PID>-* whose PID no longer runs.
func sweep() {
	root, err := cgroupRoot()
	if err != nil {
		return
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), cgPrefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || err == syscall.EPERM {
			continue
		}
		_ = RemoveCgroup(filepath.Join(root, e.Name()))
	}
}
