// Package testbed starts, for one test, the fencing test bed of
// shared/fencing/README.md: a private network namespace (loopback only,
// multicast on), a private libvirtd (LXC driver + built-in test driver) in
// that namespace and its own mount namespace, LXC domains whose processes
// really die when fenced, and Debian's real fence_virtd (multicast
// listener, optionally a second one with the tcp listener).
//
// Everything it starts is tracked by PID and stopped in t.Cleanup, in an
// order that leaves nothing behind: domains destroyed and undefined,
// daemons stopped, stray LXC controllers and node processes killed, the
// namespace holder killed (the namespace goes with it), empty cgroups it
// caused removed, the scratch directory deleted. Nothing is written on the
// host outside the scratch directory except cgroup directories: libvirtd
// sees tmpfs over /run, /var/log, /var/lib and a private /etc/libvirt.
//
// Tests skip with one line when not root or when a package is missing.
package testbed

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/test/libvirthost"
	"pacer/test/netns"
)

// Packages is the apt-get line the bed needs.
const Packages = "libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients fence-virtd fence-virt iproute2 util-linux coreutils"

// Fixed addresses inside the bed's namespace.
const (
	MulticastAddr = "225.0.0.12:1229"
	XVMTCPAddr    = "127.0.0.1:1230" // fence_virtd's tcp listener, when enabled
	LibvirtTCP    = "127.0.0.1:16509"
)

// Options choose what to start.
type Options struct {
	Nodes       int  // LXC domains node1..nodeN (default 2)
	FenceVirtd  bool // start fence_virtd (multicast listener, LXC backend)
	XVMTCP      bool // also start a fence_virtd with the tcp listener
	TestBackend bool // fence_virtd backend = test:///default instead of LXC
}

// Bed is a running test bed.
type Bed struct {
	Dir     string
	Key     []byte
	KeyFile string
	Sock    string // libvirtd's unix socket
	LXCURI  string // lxc+unix:///system?socket=...
	TestURI string // test+unix:///default?socket=...
	Nodes   []string

	t      testing.TB
	nsPath string // /proc/<holder>/ns/net
	procs  []*proc
	mkdirs []string // host dirs we had to create
	spawn  chan func()
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// need lists the commands the bed runs.
var need = []string{"libvirtd", "virsh", "fence_virtd", "unshare", "nsenter", "ip", "mountpoint", "stdbuf"}

// Start brings the bed up or skips the test.
func Start(t testing.TB, opt Options) *Bed {
	t.Helper()
	if testing.Short() {
		t.Skip("fencing test bed: skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("fencing test bed: needs root (private libvirtd, network and mount namespaces)")
	}
	var missing []string
	for _, c := range need {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	lxcDriver, _ := firstGlob("/usr/lib/*/libvirt/connection-driver/libvirt_driver_lxc.so", "/usr/lib64/libvirt/connection-driver/libvirt_driver_lxc.so")
	plugins, _ := firstGlob("/usr/lib/*/fence-virt/multicast.so", "/usr/lib64/fence-virt/multicast.so")
	if lxcDriver == "" {
		missing = append(missing, "libvirt_driver_lxc.so")
	}
	if plugins == "" {
		missing = append(missing, "fence-virt plugins")
	}
	plugins = filepath.Dir(plugins)
	if len(missing) > 0 {
		t.Skipf("fencing test bed: missing %s (apt-get install %s)", strings.Join(missing, ", "), Packages)
	}
	if opt.Nodes == 0 {
		opt.Nodes = 2
	}
	dir, err := os.MkdirTemp("", "fencebed")
	if err != nil {
		t.Fatal(err)
	}
	b := &Bed{Dir: dir, t: t, Sock: filepath.Join(dir, "run", "libvirt-sock"), spawn: make(chan func())}
	go b.spawner()
	b.LXCURI = "lxc+unix:///system?socket=" + b.Sock
	b.TestURI = "test+unix:///default?socket=" + b.Sock
	b.KeyFile = filepath.Join(dir, "etc", "fence_xvm.key")
	t.Cleanup(b.teardown)
	for _, d := range []string{"run", "log", "etc", "drivers", "xml", "nodes", "state/run", "state/etc", "state/log", "state/lib"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(lxcDriver, filepath.Join(dir, "drivers", filepath.Base(lxcDriver))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/etc/libvirt"); os.IsNotExist(err) {
		if err := os.Mkdir("/etc/libvirt", 0o755); err != nil {
			t.Fatal(err)
		}
		b.mkdirs = append(b.mkdirs, "/etc/libvirt")
	}
	// libvirt creates /sys/fs/cgroup/*/machine: note those missing now, for
	// the last bed to finish to remove.
	libvirthost.NoteMachineCgroups()
	b.Key = make([]byte, 512)
	if _, err := rand.Read(b.Key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.KeyFile, b.Key, 0o600); err != nil {
		t.Fatal(err)
	}

	b.startNetns()
	b.startLibvirtd()
	for i := 1; i <= opt.Nodes; i++ {
		b.startNode(fmt.Sprintf("node%d", i))
	}
	if opt.FenceVirtd {
		uri := b.LXCURI
		if opt.TestBackend {
			uri = b.TestURI
		}
		b.startFenceVirtd("fence_virtd", plugins, uri, "multicast", 1229, false)
		if opt.XVMTCP {
			b.startFenceVirtd("fence_virtd-tcp", plugins, uri, "tcp", 1230, true)
		}
	}
	return b
}

func firstGlob(patterns ...string) (string, error) {
	for _, p := range patterns {
		if m, _ := filepath.Glob(p); len(m) > 0 {
			return m[0], nil
		}
	}
	return "", os.ErrNotExist
}

// start runs a long-lived process and tracks it. Processes are forked
// from one dedicated OS thread that lives as long as the bed, so that
// Pdeathsig (tied to the forking thread) kills them if the test binary
// dies without running its cleanups — and not earlier.
func (b *Bed) start(name string, logFile string, args ...string) *proc {
	b.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			b.t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	errc := make(chan error)
	b.spawn <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		b.t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	b.procs = append(b.procs, p)
	return p
}

// spawner runs the functions sent on b.spawn on one locked OS thread until
// the channel is closed.
func (b *Bed) spawner() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for f := range b.spawn {
		f()
	}
}

func (b *Bed) waitFor(what string, timeout time.Duration, p *proc, ok func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		select {
		case <-p.done:
			b.t.Fatalf("%s exited while waiting for %s: %s\n%s", p.name, what, p.cmd.ProcessState, b.Logs())
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %v waiting for %s\n%s", timeout, what, b.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNetns starts the namespace holder: a sleep in a new network
// namespace with loopback up, multicast on and routed to lo.
func (b *Bed) startNetns() {
	p := b.start("netns holder", filepath.Join(b.Dir, "log", "netns.log"), "unshare", "--net", "--", "/bin/sh", "-ec",
		"ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo; exec sleep 1800")
	b.nsPath = fmt.Sprintf("/proc/%d/ns/net", p.cmd.Process.Pid)
	b.waitFor("the network namespace", 10*time.Second, p, func() bool {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.cmd.Process.Pid))
		return strings.TrimSpace(string(c)) == "sleep"
	})
}

func (b *Bed) startLibvirtd() {
	d := b.Dir
	conf := libvirthost.Config(d, "127.0.0.1", 16509, "libvirtd.log")
	wrapper := libvirthost.Wrapper(d, "")
	if err := os.WriteFile(filepath.Join(d, "etc", "libvirtd.conf"), []byte(conf), 0o644); err != nil {
		b.t.Fatal(err)
	}
	p := b.start("libvirtd", filepath.Join(d, "log", "libvirtd.stdout"),
		"nsenter", "--net="+b.nsPath, "--", "unshare", "--mount", "--propagation", "slave", "--", "/bin/sh", "-c", wrapper)
	b.waitFor("libvirtd's socket", 30*time.Second, p, func() bool {
		_, err := os.Stat(b.Sock)
		return err == nil
	})
	b.waitFor("libvirtd to answer", 10*time.Second, p, func() bool {
		_, err := b.Virsh("version")
		return err == nil
	})
}

// startNode defines and starts an LXC domain whose init is a heartbeat
// loop plus a setsid child, all marked with the scratch directory in their
// command lines (see NodePIDs).
func (b *Bed) startNode(name string) {
	d := b.Dir
	init := filepath.Join(d, "etc", "node-init.sh")
	child := filepath.Join(d, "etc", "node-child.sh")
	// PID 1 of a pid namespace ignores signals it has no handler for: the
	// TERM trap makes a destroy take ~0.2 s instead of ~1.8 s.
	// Both loops end by themselves after 30 minutes, so a node left over
	// by a test binary killed before its cleanup does not run forever.
	os.WriteFile(init, []byte(fmt.Sprintf(`trap 'exit 0' TERM INT
setsid /bin/sh %s "$1" &
i=0
while [ $i -lt 1800 ]; do date +%%s > %s/nodes/"$1".hb; sleep 1 & wait $!; i=$((i+1)); done
`, child, d)), 0o755)
	os.WriteFile(child, []byte("trap '' TERM\ni=0\nwhile [ $i -lt 1800 ]; do sleep 1; i=$((i+1)); done\n"), 0o755)
	xml := fmt.Sprintf(`<domain type='lxc'>
  <name>%s</name>
  <memory unit='MiB'>128</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>%s</initarg><initarg>%s</initarg></os>
  <devices><console type='pty'/></devices>
</domain>
`, name, init, name)
	xf := filepath.Join(d, "xml", name+".xml")
	if err := os.WriteFile(xf, []byte(xml), 0o644); err != nil {
		b.t.Fatal(err)
	}
	if out, err := b.Virsh("define", xf); err != nil {
		b.t.Fatalf("virsh define %s: %v: %s", name, err, out)
	}
	b.Nodes = append(b.Nodes, name)
	if out, err := b.Virsh("start", name); err != nil {
		b.t.Fatalf("virsh start %s: %v: %s\n%s", name, err, out, b.Logs())
	}
	if err := b.WaitNode(name, 10*time.Second); err != nil {
		b.t.Fatal(err)
	}
}

// WaitNode waits until node name runs both its init and its daemonised
// child (a started domain's processes appear shortly after virsh start
// returns).
func (b *Bed) WaitNode(name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for len(b.NodePIDs(name)) < 2 {
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s: processes %v after %v, want init and child", name, b.NodePIDs(name), timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func (b *Bed) startFenceVirtd(name, plugins, uri, listener string, port int, family bool) {
	d := b.Dir
	extra := ""
	if listener == "multicast" {
		extra = "address = \"225.0.0.12\";\n\t\tinterface = \"lo\";"
	} else {
		extra = "address = \"127.0.0.1\";"
	}
	conf := fmt.Sprintf(`fence_virtd {
	listener = "%[1]s";
	backend = "libvirt";
	module_path = "%[2]s";
}
listeners {
	%[1]s {
		key_file = "%[3]s";
		%[4]s
		port = "%[5]d";
		family = "ipv4";
		hash = "sha256";
		auth = "sha256";
	}
}
backends {
	libvirt {
		uri = "%[6]s";
	}
}
`, listener, plugins, b.KeyFile, extra, port, uri)
	cf := filepath.Join(d, "etc", name+".conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		b.t.Fatal(err)
	}
	p := b.start(name, filepath.Join(d, "log", name+".log"), "nsenter", "--net="+b.nsPath, "--",
		"stdbuf", "-oL", "-eL", "fence_virtd", "-F", "-w", "-d", "2", "-f", cf, "-p", filepath.Join(d, "run", name+".pid"))
	table := "udp"
	if listener == "tcp" {
		table = "tcp"
	}
	b.waitFor(name+" to listen", 20*time.Second, p, func() bool {
		return netns.Listening(p.cmd.Process.Pid, table, port)
	})
	_ = family
}

// Virsh runs virsh on the LXC connection (over the unix socket; no
// namespace needed).
func (b *Bed) Virsh(args ...string) (string, error) {
	return b.VirshURI(b.LXCURI, args...)
}

// VirshURI runs virsh -c uri args (10 s limit).
func (b *Bed) VirshURI(uri string, args ...string) (string, error) {
	cmd := exec.Command("virsh", append([]string{"-q", "-c", uri}, args...)...)
	cmd.WaitDelay = time.Second
	done := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	defer done.Stop()
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Do runs fn on an OS thread that has joined the bed's network namespace;
// sockets fn creates (and processes it starts) live there. The thread
// serves other goroutines again only once it is back in the original
// namespace. fn must not call t.Fatal.
func (b *Bed) Do(fn func() error) error { return netns.DoPath(b.nsPath, fn) }

// NodePIDs returns the live (non-zombie) processes of node name.
func (b *Bed) NodePIDs(name string) []int {
	marker := b.Dir + "/etc/node-"
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")
		if len(args) >= 3 && strings.HasPrefix(args[1], marker) && args[2] == name && !zombie(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func zombie(pid int) bool {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(s), ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// Log returns the content of a file in the bed's log directory.
func (b *Bed) Log(name string) string {
	data, _ := os.ReadFile(filepath.Join(b.Dir, "log", name))
	return string(data)
}

// Logs returns the tails of the daemon logs, for failure messages.
func (b *Bed) Logs() string {
	var sb strings.Builder
	for _, n := range []string{"libvirtd.stdout", "libvirtd.log", "fence_virtd.log", "fence_virtd-tcp.log"} {
		s := b.Log(n)
		if len(s) > 3000 {
			s = s[len(s)-3000:]
		}
		if s != "" {
			fmt.Fprintf(&sb, "--- %s ---\n%s\n", n, s)
		}
	}
	return sb.String()
}
