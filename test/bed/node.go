package bed

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"pacer/test/internal/bedstate"
	"pacer/test/netns"
	"pacer/test/systemdbed"
)

// Node is one bed node. The embedded systemdbed.Node gives PID (host PID
// of the node's systemd), Dir (its host-side work dir, seen inside as
// /run/testbed/host), Dial/DialBus (D-Bus to its systemd), Systemctl,
// HostPID (a unit's MainPID as a host PID), InNetNS and RuntimeUnitDir.
// Name shadows systemdbed's internal name.
type Node struct {
	*systemdbed.Node
	Name string // node1, node2, ...; also the node's hostname
	Addr string // PREFIX.(10+i) on eth0
	MAC  string // of eth0
}

// IfName is the node's (and the client's) interface on the bridge.
const IfName = "eth0"

// NetNS is the path of the node's network namespace, for ipaddr2.Options
// and nsenter --net=.
func (n *Node) NetNS() string { return fmt.Sprintf("/proc/%d/ns/net", n.PID) }

// Enter is the nsenter command line that runs a program in every
// namespace of the node (as a child of the node's pid namespace).
func (n *Node) Enter() []string {
	return []string{"nsenter", "-t", strconv.Itoa(n.PID), "-m", "-u", "-i", "-n", "-p", "--"}
}

// Exec runs a command inside the node and returns its combined output.
func (n *Node) Exec(args ...string) (string, error) {
	argv := append(n.Enter(), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s: %w: %s", n.Name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Must runs a command inside the node and fails the test on error.
func (n *Node) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// VarLibPacer is the host-side directory the node sees as /var/lib/pacer.
func (n *Node) VarLibPacer() string { return filepath.Join(n.Dir, "var-lib-pacer") }

// HaproxyConfigPath is the host-side haproxy.cfg of the node; haproxy
// answers "haproxy ok from NODE" on :8080 unless a test rewrites it.
func (n *Node) HaproxyConfigPath() string { return filepath.Join(n.Dir, "haproxy.cfg") }

// HaproxyConfig is the node's haproxy.cfg: :8080 answers with the node's
// name, so a client can tell which node serves a VIP.
func HaproxyConfig(node string) string {
	return systemdbed.HaproxyConfigFor(node)
}

// makeSwitch creates the switch namespace with br0 and the client
// namespace attached to it.
func (b *Bed) makeSwitch() error {
	s := b.State
	if out, err := exec.Command("ip", "netns", "add", s.Switch).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", s.Switch, err, out)
	}
	if out, err := exec.Command("ip", "netns", "add", s.Client).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", s.Client, err, out)
	}
	cl := &netns.NS{Name: s.Client}
	b.Client = &Client{NS: cl, Addr: s.Prefix + ".2"}
	steps := [][]string{
		{"ip", "-n", s.Switch, "link", "set", "lo", "up"},
		{"ip", "-n", s.Switch, "link", "add", "br0", "type", "bridge", "forward_delay", "0"},
		{"ip", "-n", s.Switch, "link", "set", "br0", "up"},
		{"ip", "-n", s.Switch, "link", "add", "vclient", "type", "veth", "peer", "name", IfName, "netns", s.Client},
		{"ip", "-n", s.Switch, "link", "set", "vclient", "master", "br0", "up"},
		{"ip", "-n", s.Client, "link", "set", "lo", "up"},
		{"ip", "-n", s.Client, "link", "set", IfName, "address", mac(s.Prefix, 2)},
		{"ip", "-n", s.Client, "addr", "add", b.Client.Addr + "/24", "brd", "+", "dev", IfName},
		{"ip", "-n", s.Client, "link", "set", IfName, "up"},
	}
	for _, st := range steps {
		if out, err := exec.Command(st[0], st[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(st, " "), err, out)
		}
	}
	b.Client.MAC = mac(s.Prefix, 2)
	return nil
}

// mac is a locally administered MAC address made from the bed's prefix
// and the host number, so neighbour tables are easy to read.
func mac(prefix string, host int) string {
	var a, b, c int
	fmt.Sscanf(prefix, "%d.%d.%d", &a, &b, &c)
	return fmt.Sprintf("02:%02x:%02x:%02x:00:%02x", a, b, c, host)
}

// boot starts node i and wires it to the bridge.
func (b *Bed) boot(t testing.TB, i int, opts Options) {
	t.Helper()
	name := fmt.Sprintf("node%d", i)
	units := map[string]string{}
	for k, v := range opts.Units {
		units[k] = v
	}
	sd := bootNode(t, name, systemdbed.Options{Units: units, NoHaproxy: opts.NoHaproxy, Journal: opts.Journal})
	n := &Node{Node: sd, Name: name, Addr: fmt.Sprintf("%s.%d", b.Prefix, 10+i), MAC: mac(b.Prefix, 10+i)}
	s := b.State
	s.Nodes = append(s.Nodes, NodeState{Name: name, Addr: n.Addr, MAC: n.MAC, PID: sd.PID, Start: startTime(sd.PID),
		Unshare: ppid(sd.PID), UnshareStart: startTime(ppid(sd.PID)), Cgroup: cgroupOf(sd.PID), Dir: sd.Dir})
	s.Dirs = append(s.Dirs, sd.Dir)
	if err := s.save(); err != nil {
		t.Fatalf("bed: write state: %v", err)
	}
	if err := b.wire(n); err != nil {
		t.Fatalf("bed: %s: %v", name, err)
	}
	b.Nodes = append(b.Nodes, n)
}

// bootNode boots one systemd through systemdbed, on a runner of its own
// so that a failed boot can be retried once, and hands the node's
// teardown to t. Boots hold the bed lock, which teardowns take to delete
// namespaces: systemdbed's init unmounts its copies of /run/netns/*, and
// one that another process deletes meanwhile ("umount: ... not mounted")
// aborts the boot.
func bootNode(t testing.TB, name string, opts systemdbed.Options) *systemdbed.Node {
	t.Helper()
	for attempt := 1; ; attempt++ {
		r := newRunner(t.TempDir(), nil)
		var sd *systemdbed.Node
		err := r.do(func() {
			unlock, err := lock()
			if err != nil {
				r.Fatalf("bed: %v", err)
			}
			defer unlock()
			sd = systemdbed.Boot(r, opts)
		})
		if err == nil {
			t.Cleanup(func() {
				if err := r.close(); err != nil {
					t.Errorf("bed: tear down %s: %v", name, err)
				}
			})
			return sd
		}
		// systemdbed shows systemd's console; the init script's own
		// output says why it stopped before systemd.
		logs, _ := filepath.Glob(filepath.Join(r.dir, "*", "unshare.log"))
		for _, l := range logs {
			if b, e := os.ReadFile(l); e == nil && len(b) > 0 {
				err = fmt.Errorf("%w\n%s:\n%s", err, l, tail(b, 2000))
			}
		}
		if cerr := r.close(); cerr != nil {
			err = fmt.Errorf("%w (teardown: %v)", err, cerr)
		}
		if attempt == 2 {
			t.Fatalf("bed: boot %s: %v", name, err)
		}
		t.Logf("bed: boot of %s failed, trying once more: %v", name, err)
	}
}

func (b *Bed) wire(n *Node) error {
	sw, pid := b.State.Switch, strconv.Itoa(n.PID)
	host := "v" + n.Name
	if err := os.MkdirAll(n.VarLibPacer(), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll("/var/lib/pacer", 0o755); err != nil {
		return fmt.Errorf("mount point /var/lib/pacer: %w", err)
	}
	if err := os.WriteFile(n.HaproxyConfigPath(), []byte(HaproxyConfig(n.Name)), 0o644); err != nil {
		return err
	}
	in := func(ns string, args ...string) []string {
		return append([]string{"nsenter", "-t", pid, ns, "--"}, args...)
	}
	// /proc inside the node's mount namespace is that of its pid
	// namespace: tools that use /proc/self must run in both.
	inMP := func(args ...string) []string {
		return append([]string{"nsenter", "-t", pid, "-m", "-p", "--"}, args...)
	}
	steps := [][]string{
		{"ip", "-n", sw, "link", "add", host, "type", "veth", "peer", "name", IfName, "netns", pid},
		{"ip", "-n", sw, "link", "set", host, "master", "br0", "up"},
		in("-n", "ip", "link", "set", IfName, "address", n.MAC),
		in("-n", "ip", "addr", "add", n.Addr+"/24", "brd", "+", "dev", IfName),
		in("-n", "ip", "link", "set", IfName, "up"),
		in("-u", "hostname", n.Name),
		in("-m", "mount", "--bind", "/run/testbed/host/var-lib-pacer", "/var/lib/pacer"),
	}
	// What systemd-tmpfiles would have made in /run at boot for the
	// packages the nodes use (/run/resource-agents for the OCF scripts'
	// state files, /run/haproxy).
	var tmpfiles []string
	for _, f := range []string{"resource-agents.conf", "haproxy.conf"} {
		if p := filepath.Join("/usr/lib/tmpfiles.d", f); fileExists(p) {
			tmpfiles = append(tmpfiles, p)
		}
	}
	if len(tmpfiles) > 0 {
		steps = append(steps, inMP(append([]string{"systemd-tmpfiles", "--create"}, tmpfiles...)...))
	}
	for _, st := range steps {
		if out, err := exec.Command(st[0], st[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(st, " "), err, out)
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func ppid(pid int) int { return bedstate.PPID(pid) }

// cgroupOf returns the host path of the cgroup2 directory the node was
// booted in: that of its unshare parent, which systemdbed put there
// before unsharing the cgroup namespace.
func cgroupOf(pid int) string {
	parent := ppid(pid)
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", parent))
	if err != nil {
		return ""
	}
	defer f.Close()
	rel := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			rel = p
		}
	}
	if rel == "" || rel == "/" {
		return ""
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st syscall.Statfs_t
		if syscall.Statfs(root, &st) == nil && st.Type == 0x63677270 {
			return filepath.Join(root, rel)
		}
	}
	return ""
}
