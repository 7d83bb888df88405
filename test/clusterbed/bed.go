package clusterbed

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pacer/test/internal/bedstate"
	"pacer/test/libvirthost"
	"pacer/test/netns"
)

// DefaultPrefix is the /24 of the bed's bridge. test/bed uses 10.77.0, so
// both beds can be up at once; only namespaces the bed creates ever see it.
const DefaultPrefix = "10.78.0"

// Multicast is where fence_virtd listens on br0 (fence_xvm's defaults).
const (
	MulticastGroup = "225.0.0.12"
	MulticastPort  = 1229
	LibvirtTCPPort = 16509
)

// Packages is the apt-get line the bed needs.
const Packages = "libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients fence-virt fence-virtd systemd haproxy iproute2 util-linux"

// Options say what to build. The zero value is a 3-node pacer cluster
// fenced through Debian's fence_virtd.
type Options struct {
	Nodes int // 1..9, default 3 (or len(Names))
	// Names are the nodes' names (node, domain and host name), in address
	// order; default node1, node2, ... A pair named server1/server4 is the
	// seeds' two-node cluster.
	Names  []string
	Prefix string // first three octets of the bridge's /24
	// ID names the bed (state file, namespaces, cgroup); default
	// t<PID>-<random>.
	ID string
	// Dir is the work directory (default a new one under $TMPDIR); it is
	// removed on teardown.
	Dir string
	// NoFenceVirtd leaves Debian's fence_virtd out.
	NoFenceVirtd bool
	// NoCluster boots the nodes without pacerd.
	NoCluster bool
	// PacerdExtra is appended to every node's pacerd.toml as top-level
	// keys (e.g. timing knobs).
	PacerdExtra string
	// Bin are prebuilt binaries; empty fields are built (once per
	// process, see Build).
	Bin Binaries
	// Log gets progress lines (nil: none).
	Log io.Writer
}

// Bed is a running cluster bed.
type Bed struct {
	ID     string
	Dir    string
	Prefix string
	// Fabric holds br0 (PREFIX.1), libvirtd, fence_virtd and the host
	// ends of every veth; ClientNS holds the client's eth0 (PREFIX.2).
	Fabric, ClientNS string
	Sock             string // libvirtd's unix socket (host path)
	URI              string // lxc+unix:///system?socket=Sock
	// NodeURI reaches the same libvirtd from inside a node, over TCP on
	// br0 (auth none: the bridge exists only inside the bed).
	NodeURI string
	KeyFile string // fence_xvm key (host path); nodes see NodeKeyFile
	Key     []byte
	Nodes   []*Node
	Client  *Client
	Bin     Binaries
	State   *State

	opts   Options
	cgroup string
	sp     *spawner
	mu     sync.Mutex
	procs  map[string]*proc
}

// NodeKeyFile is where a node sees the fence_xvm key.
const NodeKeyFile = "/run/testbed/host/fence_xvm.key"

// NodeSocket is pacerd's unix socket inside a node.
const NodeSocket = "/run/pacer/pacerd.sock"

var needCmds = []string{"libvirtd", "virsh", "fence_virtd", "fence_xvm", "ip", "nsenter", "unshare", "findmnt", "stdbuf", "mount", "haproxy"}

// Check returns why a bed cannot be built here, or "".
func Check() string {
	if os.Geteuid() != 0 {
		return "cluster bed: needs root (libvirtd, network, mount and pid namespaces, cgroups)"
	}
	var missing []string
	for _, c := range needCmds {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if _, err := os.Stat("/lib/systemd/systemd"); err != nil {
		missing = append(missing, "/lib/systemd/systemd")
	}
	if lxcDriver() == "" {
		missing = append(missing, "libvirt_driver_lxc.so")
	}
	if fencePlugins() == "" {
		missing = append(missing, "fence-virt plugins")
	}
	if len(missing) > 0 {
		return fmt.Sprintf("cluster bed: missing %s (apt-get install %s)", strings.Join(missing, ", "), Packages)
	}
	if cgroup2Root() == "" {
		return "cluster bed: needs a hybrid cgroup layout (cgroup2 at /sys/fs/cgroup/unified); pure cgroup v2 is untested"
	}
	return ""
}

// Require skips the test unless a bed can be built here.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster bed: skipped in -short mode")
	}
	if why := Check(); why != "" {
		t.Skip(why)
	}
}

// Up builds a bed for one test and tears it down in t.Cleanup, also when
// the test fails.
func Up(t testing.TB, opts Options) *Bed {
	t.Helper()
	Require(t)
	if opts.Log == nil {
		opts.Log = tlog{t}
	}
	b, err := Start(opts)
	if err != nil {
		t.Fatalf("cluster bed: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("cluster bed %s teardown: %v", b.ID, err)
		}
	})
	return b
}

type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func lxcDriver() string {
	return firstGlob("/usr/lib/*/libvirt/connection-driver/libvirt_driver_lxc.so", "/usr/lib64/libvirt/connection-driver/libvirt_driver_lxc.so")
}

func fencePlugins() string {
	p := firstGlob("/usr/lib/*/fence-virt/multicast.so", "/usr/lib64/fence-virt/multicast.so")
	if p == "" {
		return ""
	}
	return filepath.Dir(p)
}

func firstGlob(patterns ...string) string {
	for _, p := range patterns {
		if m, _ := filepath.Glob(p); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// cgroup2Root is the cgroup2 mount of a hybrid layout. libvirt 9.0 must
// not see it (its LXC driver fails on it), which is what lets the bed
// keep every domain in a cgroup2 subtree of its own.
func cgroup2Root() string {
	if isCgroup2("/sys/fs/cgroup/unified") && !isCgroup2("/sys/fs/cgroup") {
		return "/sys/fs/cgroup/unified"
	}
	return ""
}

func (b *Bed) logf(format string, args ...any) {
	if b.opts.Log != nil {
		fmt.Fprintf(b.opts.Log, "clusterbed: "+format+"\n", args...)
	}
}

// Start builds a bed. On error everything made so far is removed.
func Start(opts Options) (*Bed, error) {
	if why := Check(); why != "" {
		return nil, errors.New(why)
	}
	for _, err := range Sweep() {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "clusterbed: leftovers of a dead run: %v\n", err)
		}
	}
	if opts.Nodes == 0 {
		opts.Nodes = 3
		if len(opts.Names) > 0 {
			opts.Nodes = len(opts.Names)
		}
	}
	if opts.Nodes < 1 || opts.Nodes > 9 {
		return nil, fmt.Errorf("%d nodes: want 1..9", opts.Nodes)
	}
	if err := checkNames(opts.Names, opts.Nodes); err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if err := netns.CheckPrefix(opts.Prefix, DefaultPrefix); err != nil {
		return nil, err
	}
	id := opts.ID
	if id == "" {
		id = bedstate.NewID()
	}
	if old, err := Load(id); err == nil {
		if old.OwnerAlive() {
			return nil, fmt.Errorf("bed %s is already up (held by PID %d)", id, old.Owner)
		}
		if err := old.Teardown(); err != nil {
			return nil, fmt.Errorf("bed %s: remove the leftovers of a dead run: %w", id, err)
		}
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "pacer-cbed-")
		if err != nil {
			return nil, err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Short names: "ip netns" names end up in interface-free paths only,
	// but the cgroup and state names are read by people.
	s := &State{ID: id, Owner: os.Getpid(), OwnerStart: startTime(os.Getpid()), Created: time.Now(), Dir: dir, Prefix: opts.Prefix,
		Fabric: "pcb-" + id + "-f", Client: "pcb-" + id + "-c", Cgroup: filepath.Join(cgroup2Root(), "pacer-cbed-"+id)}
	if err := s.save(); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	b := &Bed{ID: id, Dir: dir, Prefix: opts.Prefix, Fabric: s.Fabric, ClientNS: s.Client, State: s, opts: opts,
		cgroup: s.Cgroup, procs: map[string]*proc{}}
	b.Sock = filepath.Join(dir, "run", "libvirt-sock")
	b.URI = "lxc+unix:///system?socket=" + b.Sock
	b.NodeURI = fmt.Sprintf("lxc+tcp://%s.1/system", opts.Prefix)
	b.KeyFile = filepath.Join(dir, "etc", "fence_xvm.key")
	b.sp = newSpawner()
	t0 := time.Now()
	if err := b.build(); err != nil {
		return nil, errors.Join(err, b.Close())
	}
	b.logf("bed %s up in %v: %d nodes, work dir %s", id, time.Since(t0).Round(time.Millisecond), len(b.Nodes), dir)
	return b, nil
}

func (b *Bed) build() error {
	opts := b.opts
	for _, d := range []string{"run", "log", "etc", "drivers", "xml", "nodes", "bin", "state/run", "state/etc", "state/log", "state/lib"} {
		if err := os.MkdirAll(filepath.Join(b.Dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Symlink(lxcDriver(), filepath.Join(b.Dir, "drivers", filepath.Base(lxcDriver()))); err != nil {
		return err
	}
	if _, err := os.Stat("/etc/libvirt"); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir("/etc/libvirt", 0o755); err != nil {
			return err
		}
		b.State.HostDirs = append(b.State.HostDirs, "/etc/libvirt")
	}
	libvirthost.NoteMachineCgroups()
	for _, d := range []string{"", "libvirtd", "daemons"} {
		if err := os.Mkdir(filepath.Join(b.cgroup, d), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cgroup: %w", err)
		}
	}
	b.Key = make([]byte, 512)
	if _, err := rand.Read(b.Key); err != nil {
		return err
	}
	if err := os.WriteFile(b.KeyFile, b.Key, 0o600); err != nil {
		return err
	}
	bin, err := Build(opts.Bin)
	if err != nil {
		return err
	}
	b.Bin = bin
	if err := b.makeNetwork(); err != nil {
		return err
	}
	t := time.Now()
	if err := b.startLibvirtd(); err != nil {
		return err
	}
	b.logf("libvirtd ready in %v", time.Since(t).Round(time.Millisecond))
	if !opts.NoFenceVirtd {
		if err := b.StartFenceVirtd(); err != nil {
			return err
		}
	}
	for i := 1; i <= opts.Nodes; i++ {
		b.Nodes = append(b.Nodes, b.newNode(i))
	}
	if !opts.NoCluster {
		if err := b.setupCluster(); err != nil {
			return err
		}
	}
	for _, n := range b.Nodes {
		if err := n.prepare(); err != nil {
			return err
		}
		if err := b.define(n); err != nil {
			return err
		}
	}
	for _, n := range b.Nodes {
		t := time.Now()
		if err := n.PowerOn(); err != nil {
			return err
		}
		if err := n.WaitReady(30 * time.Second); err != nil {
			return err
		}
		b.logf("%s ready in %v (systemd PID %d)", n.Name, time.Since(t).Round(time.Millisecond), n.pidOrZero())
	}
	if !opts.NoCluster {
		t := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		leader, err := b.WaitLeader(ctx)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, b.Logs())
		}
		b.logf("pacer cluster has leader %s after %v", leader, time.Since(t).Round(time.Millisecond))
	}
	b.State.Ready = true
	return b.State.save()
}

// Close tears the bed down: every node at once first (as a power cut
// would), then everything else, from the state record.
func (b *Bed) Close() error {
	b.mu.Lock()
	procs := b.procs
	b.procs = map[string]*proc{}
	b.mu.Unlock()
	err := b.State.Teardown()
	for _, p := range procs {
		p.wait(5 * time.Second)
	}
	b.sp.close()
	return err
}

// Attach gives access to a bed that another process holds (the bed
// command's keeper): nodes, client, virsh, logs. Close on it tears the
// bed down from its state file.
func Attach(id string) (*Bed, error) {
	s, err := Load(id)
	if err != nil {
		return nil, err
	}
	b := &Bed{ID: id, Dir: s.Dir, Prefix: s.Prefix, Fabric: s.Fabric, ClientNS: s.Client, State: s,
		cgroup: s.Cgroup, procs: map[string]*proc{}, sp: newSpawner(), opts: Options{Names: s.Domains}}
	b.Sock = filepath.Join(s.Dir, "run", "libvirt-sock")
	b.URI = "lxc+unix:///system?socket=" + b.Sock
	b.NodeURI = fmt.Sprintf("lxc+tcp://%s.1/system", s.Prefix)
	b.KeyFile = filepath.Join(s.Dir, "etc", "fence_xvm.key")
	b.Key, _ = os.ReadFile(b.KeyFile)
	b.Client = &Client{NS: s.Client, Addr: s.Prefix + ".2", bed: b}
	for i := range s.Domains {
		b.Nodes = append(b.Nodes, b.newNode(i+1))
	}
	return b, nil
}

// Node returns the node called name, or nil.
func (b *Bed) Node(name string) *Node {
	for _, n := range b.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// VIP is the i-th address kept free for virtual IPs: PREFIX.(100+i).
func (b *Bed) VIP(i int) string { return fmt.Sprintf("%s.%d", b.Prefix, 100+i) }

// BridgeAddr is the fabric's address on br0 (libvirtd's TCP listener,
// fence_virtd's tcp listener, fence-host).
func (b *Bed) BridgeAddr() string { return b.Prefix + ".1" }

// checkNames refuses names that would not work as a domain, host and
// pacer node name, or that clash.
func checkNames(names []string, n int) error {
	if len(names) == 0 {
		return nil
	}
	if len(names) != n {
		return fmt.Errorf("%d names for %d nodes", len(names), n)
	}
	seen := map[string]bool{}
	for _, name := range names {
		ok := name != "" && len(name) <= 32 && !seen[name]
		for _, r := range name {
			ok = ok && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
		}
		if !ok {
			return fmt.Errorf("node name %q: want distinct names of a-z, 0-9 and '-'", name)
		}
		seen[name] = true
	}
	return nil
}
