package clusterbed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"pacer/test/libvirthost"
	"pacer/test/netns"
	"pacer/test/testbed"
)

// Binaries are what the nodes and the fabric run.
type Binaries struct {
	Pacerd, Pcsctl, FenceHost string
}

// BuildDir, when set before the first Build, is where Build puts the
// binaries (the bed command builds into the bed's work directory, so a
// sweep removes them too); by default a new temporary directory.
var BuildDir string

var (
	buildOnce sync.Once
	buildDir  string
	built     Binaries
	buildErr  error
)

// Build fills the empty fields of have by building pacerd, pcsctl and
// fence-host, once per process, into a directory that RemoveBuilt
// deletes (call it from TestMain).
func Build(have Binaries) (Binaries, error) {
	if have.Pacerd != "" && have.Pcsctl != "" && have.FenceHost != "" {
		return have, nil
	}
	buildOnce.Do(func() {
		if buildDir = BuildDir; buildDir != "" {
			buildErr = os.MkdirAll(buildDir, 0o755)
		} else {
			buildDir, buildErr = os.MkdirTemp("", "pacer-cbed-bin-")
		}
		if buildErr != nil {
			return
		}
		var b testbed.Binaries
		if b, buildErr = testbed.Build(buildDir); buildErr != nil {
			return
		}
		built = Binaries{Pacerd: b.Pacerd, Pcsctl: b.Pcsctl, FenceHost: filepath.Join(buildDir, "fence-host")}
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", built.FenceHost, "./cmd/fence-host")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/fence-host: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		return have, buildErr
	}
	if have.Pacerd == "" {
		have.Pacerd = built.Pacerd
	}
	if have.Pcsctl == "" {
		have.Pcsctl = built.Pcsctl
	}
	if have.FenceHost == "" {
		have.FenceHost = built.FenceHost
	}
	return have, nil
}

// RemoveBuilt deletes what Build made.
func RemoveBuilt() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// spawner forks the bed's daemons from one OS thread that lives as long
// as the bed: Pdeathsig is tied to the forking thread, so the daemons die
// with the process that holds the bed (and not before).
type spawner struct {
	ch   chan func()
	once sync.Once
}

func newSpawner() *spawner {
	s := &spawner{ch: make(chan func())}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for f := range s.ch {
			f()
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	errc := make(chan error)
	s.ch <- func() { errc <- cmd.Start() }
	return <-errc
}

func (s *spawner) close() { s.once.Do(func() { close(s.ch) }) }

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) wait(d time.Duration) {
	select {
	case <-p.done:
	case <-time.After(d):
	}
}

// daemon starts a long-lived process of the bed, records it in the state
// and puts it in the bed's cgroup (so a sweep finds it even if the record
// is lost).
func (b *Bed) daemon(name string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(filepath.Join(b.Dir, "log", name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := b.sp.start(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	if name != "libvirtd" { // libvirtd's wrapper moves itself
		_ = os.WriteFile(filepath.Join(b.cgroup, "daemons", "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	b.mu.Lock()
	b.procs[name] = p
	b.State.Procs = append(b.State.Procs, ProcState{Name: name, PID: pid, Start: startTime(pid)})
	err = b.State.save()
	b.mu.Unlock()
	return p, err
}

// StopDaemon stops a daemon of the bed by name (SIGTERM, then SIGKILL
// after 5 s).
func (b *Bed) StopDaemon(name string) error {
	b.mu.Lock()
	p := b.procs[name]
	delete(b.procs, name)
	b.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no daemon %s", name)
	}
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var kept []ProcState
	for _, ps := range b.State.Procs {
		if ps.Name != name {
			kept = append(kept, ps)
		}
	}
	b.State.Procs = kept
	return b.State.save()
}

func (b *Bed) waitFor(what string, timeout time.Duration, p *proc, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited while waiting for %s: %v\n%s", p.name, what, p.cmd.ProcessState, b.Logs())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s\n%s", timeout, what, b.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func run(args ...string) error {
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// makeNetwork creates the fabric namespace (br0 at PREFIX.1, multicast
// routed to br0 so fence_virtd joins its group there) and the client
// namespace on the bridge.
func (b *Bed) makeNetwork() error {
	f, c := b.Fabric, b.ClientNS
	if err := run("ip", "netns", "add", f); err != nil {
		return err
	}
	if err := run("ip", "netns", "add", c); err != nil {
		return err
	}
	cl := &Client{NS: c, Addr: b.Prefix + ".2", bed: b}
	b.Client = cl
	for _, st := range [][]string{
		{"ip", "-n", f, "link", "set", "lo", "up"},
		{"ip", "-n", f, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "mcast_snooping", "0"},
		{"ip", "-n", f, "addr", "add", b.Prefix + ".1/24", "dev", "br0"},
		{"ip", "-n", f, "link", "set", "br0", "up"},
		{"ip", "-n", f, "route", "add", "224.0.0.0/4", "dev", "br0"},
		{"ip", "-n", f, "link", "add", "cl0", "type", "veth", "peer", "name", "eth0", "netns", c},
		{"ip", "-n", f, "link", "set", "cl0", "master", "br0", "up"},
		{"ip", "-n", c, "link", "set", "lo", "up"},
		{"ip", "-n", c, "link", "set", "eth0", "address", fmt.Sprintf("52:54:00:4e:00:%02x", 2)},
		{"ip", "-n", c, "addr", "add", cl.Addr + "/24", "dev", "eth0"},
		{"ip", "-n", c, "link", "set", "eth0", "up"},
	} {
		if err := run(st...); err != nil {
			return err
		}
	}
	return nil
}

// startLibvirtd runs a private libvirtd (LXC driver only) in the fabric
// namespace and in a mount namespace of its own, where the cgroup2 mount
// is hidden (libvirt 9.0's LXC driver fails on a hybrid layout) and
// /run, /var/log, /var/lib and /etc/libvirt are private, so nothing of it
// lands on the host. It listens on its unix socket and on TCP at
// PREFIX.1 for the nodes' fence_libvirt devices.
func (b *Bed) startLibvirtd() error {
	d := b.Dir
	conf := libvirthost.Config(d, b.BridgeAddr(), LibvirtTCPPort, "libvirtd-daemon.log")
	if err := os.WriteFile(filepath.Join(d, "etc", "libvirtd.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	wrapper := libvirthost.Wrapper(d, b.cgroup)
	p, err := b.daemon("libvirtd", "nsenter", "--net=/run/netns/"+b.Fabric, "--",
		"unshare", "--mount", "--propagation", "slave", "--", "/bin/sh", "-c", wrapper)
	if err != nil {
		return err
	}
	if err := b.waitFor("libvirtd's socket", 30*time.Second, p, func() bool { _, err := os.Stat(b.Sock); return err == nil }); err != nil {
		return err
	}
	return b.waitFor("libvirtd to answer", 10*time.Second, p, func() bool { _, err := b.Virsh("version"); return err == nil })
}

// StartFenceVirtd runs Debian's fence_virtd in the fabric namespace: the
// multicast listener on br0 (MulticastGroup:MulticastPort), sha256 for
// requests and challenges, the bed's libvirtd as its only backend URI.
func (b *Bed) StartFenceVirtd() error {
	conf := fmt.Sprintf(`fence_virtd {
	listener = "multicast";
	backend = "libvirt";
	module_path = "%s";
}
listeners {
	multicast {
		key_file = "%s";
		address = "%s";
		port = "%d";
		family = "ipv4";
		interface = "br0";
		hash = "sha256";
		auth = "sha256";
	}
}
backends {
	libvirt {
		uri = "%s";
	}
}
`, fencePlugins(), b.KeyFile, MulticastGroup, MulticastPort, b.URI)
	cf := filepath.Join(b.Dir, "etc", "fence_virt.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return err
	}
	p, err := b.daemon("fence_virtd", "nsenter", "--net=/run/netns/"+b.Fabric, "--",
		"stdbuf", "-oL", "-eL", "fence_virtd", "-F", "-w", "-d", "2", "-f", cf, "-p", filepath.Join(b.Dir, "run", "fence_virtd.pid"))
	if err != nil {
		return err
	}
	return b.waitFor("fence_virtd to listen", 20*time.Second, p, func() bool { return netns.Listening(p.cmd.Process.Pid, "udp", MulticastPort) })
}

// StartFenceHost runs pacer's fence-host in the fabric namespace instead
// of (or next to) fence_virtd: multicast on br0 at MulticastGroup:port,
// the same key, the bed's libvirtd through our own RPC client.
func (b *Bed) StartFenceHost(port int) error {
	p, err := b.daemon("fence-host", "nsenter", "--net=/run/netns/"+b.Fabric, "--",
		b.Bin.FenceHost, "-key", b.KeyFile, "-interface", "br0", "-uri", b.URI,
		"-multicast", fmt.Sprintf("%s:%d", MulticastGroup, port))
	if err != nil {
		return err
	}
	return b.waitFor("fence-host to listen", 20*time.Second, p, func() bool { return netns.Listening(p.cmd.Process.Pid, "udp", port) })
}

// Virsh runs virsh on the bed's libvirtd (10 s limit).
func (b *Bed) Virsh(args ...string) (string, error) { return virsh(b.Sock, args...) }

func virsh(sock string, args ...string) (string, error) {
	cmd := exec.Command("virsh", append([]string{"-q", "-c", "lxc+unix:///system?socket=" + sock}, args...)...)
	cmd.WaitDelay = time.Second
	timer := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out)), fmt.Errorf("virsh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// Logs returns the tails of the bed's daemon logs and of every node's
// init, console and pacerd logs, for failure messages.
func (b *Bed) Logs() string {
	var sb strings.Builder
	files, _ := filepath.Glob(filepath.Join(b.Dir, "log", "*.log"))
	for _, n := range b.Nodes {
		for _, f := range []string{"init.log", "console.log", "pacerd.log"} {
			files = append(files, filepath.Join(n.Dir, f))
		}
	}
	files = append(files, filepath.Join(b.Dir, "state", "log", "lxc"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			sub, _ := filepath.Glob(filepath.Join(f, "*.log"))
			for _, s := range sub {
				sb.WriteString(tailFile(s, 1500))
			}
			continue
		}
		sb.WriteString(tailFile(f, 1500))
	}
	return sb.String()
}

func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return fmt.Sprintf("--- %s ---\n%s\n", path, data)
}

func isCgroup2(path string) bool {
	var s syscall.Statfs_t
	return syscall.Statfs(path, &s) == nil && s.Type == 0x63677270
}

// errNotRunning: the node's domain (or its systemd) is not running.
var errNotRunning = errors.New("domain not running")
