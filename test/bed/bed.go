// Package bed builds a multi-node test bed on one Linux host, as root:
// N nodes, each a real systemd as PID 1 of its own pid, mount, uts, ipc,
// cgroup and network namespaces (test/systemdbed) with haproxy.service
// available, a private /run and /var/lib/pacer, and an eth0 on a bridge;
// plus a client network namespace on the same bridge. The bridge lives in
// a network namespace of its own, so the host's network is never touched.
//
//	switch netns pbed-ID-sw     br0 (no address)
//	  vclient  <veth>  eth0 PREFIX.2     client netns pbed-ID-cl
//	  vnode1   <veth>  eth0 PREFIX.11    node1 (systemd PID 1)
//	  vnode2   <veth>  eth0 PREFIX.12    node2 ...
//
// PREFIX is 10.77.0 unless Options say otherwise; PREFIX.100 and up are
// free for virtual IPs (Bed.VIP).
//
// Everything a bed makes is recorded in a state file below StateDir before
// it is made; teardown kills only recorded processes (by PID and start
// time) and removes only recorded namespaces, cgroups and directories.
// Tests get the teardown through t.Cleanup, also when they fail; a bed
// whose owner died (a killed test binary, a crashed command) is torn down
// by the next Up, Start or Sweep.
//
// Packages whose tests talk to a node's systemd (Node.Dial, the systemd
// agent) must call systemdbed.HelperMain first thing in TestMain.
package bed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"pacer/test/internal/bedstate"
	"pacer/test/netns"
	"pacer/test/systemdbed"
)

// DefaultPrefix is the /24 of the bed's bridge: a private range unused on
// the machines this runs on, and only ever configured inside namespaces
// the bed creates.
const DefaultPrefix = "10.77.0"

// Options say what to build.
type Options struct {
	// Nodes is the number of nodes (1..80); default 3.
	Nodes int
	// Prefix is the first three octets of the bridge's /24.
	Prefix string
	// ID names the bed (state file, namespaces); default a unique
	// t<PID>-<random> name. The bed command uses the name given to it.
	ID string
	// Units are extra unit files (name -> content) every node gets.
	Units map[string]string
	// NoHaproxy leaves haproxy.service out of the nodes.
	NoHaproxy bool
	// Journal runs each node's own journald (slower; to debug units).
	Journal bool

	dirs []string // extra directories Teardown removes (Start's)
}

// Bed is a built test bed.
type Bed struct {
	ID     string
	Prefix string
	Nodes  []*Node
	Client *Client
	// Switch holds the bridge br0 and the host ends of every veth.
	Switch *netns.NS
	State  *State

	r *runner // set by Start
}

// Client is the client network namespace: eth0 at PREFIX.2 on the bridge.
// netns.NS gives Do (run Go code inside, e.g. net.Dial), Exec and Must.
type Client struct {
	*netns.NS
	Addr string
	MAC  string
}

// Require skips the test unless a bed can be built here.
func Require(t testing.TB) {
	t.Helper()
	netns.Require(t)
	for _, bin := range []string{"nsenter", "hostname", "mount"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (Debian package util-linux / hostname / mount)", bin)
		}
	}
	systemdbed.Require(t)
}

// Up builds a bed and registers its teardown with t.Cleanup. It fails the
// test when the bed cannot be built.
func Up(t testing.TB, opts Options) *Bed {
	t.Helper()
	Require(t)
	for _, err := range Sweep() {
		t.Logf("bed: leftovers of a dead run: %v", err)
	}
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Nodes < 1 || opts.Nodes > 80 {
		t.Fatalf("bed: %d nodes: want 1..80", opts.Nodes)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if err := netns.CheckPrefix(opts.Prefix, DefaultPrefix); err != nil {
		t.Fatalf("bed: %v", err)
	}
	id := opts.ID
	if id == "" {
		id = bedstate.NewID()
	}
	if old, err := Load(id); err == nil {
		if old.OwnerAlive() {
			t.Fatalf("bed %s is already up (held by PID %d)", id, old.Owner)
		}
		if err := old.Teardown(); err != nil {
			t.Fatalf("bed %s: remove the leftovers of a dead run: %v", id, err)
		}
	}
	s := &State{ID: id, Owner: os.Getpid(), OwnerStart: startTime(os.Getpid()), Created: time.Now(),
		Prefix: opts.Prefix, Switch: "pbed-" + id + "-sw", Client: "pbed-" + id + "-cl",
		Dirs: opts.dirs}
	if err := s.save(); err != nil {
		t.Fatalf("bed: write state: %v", err)
	}
	b := &Bed{ID: id, Prefix: opts.Prefix, State: s, Switch: &netns.NS{Name: s.Switch}}
	// Runs last: whatever is still there goes, and the state file with it.
	t.Cleanup(func() {
		if err := s.Teardown(); err != nil {
			t.Errorf("bed %s teardown: %v", id, err)
		}
	})
	if err := b.makeSwitch(); err != nil {
		t.Fatalf("bed: %v", err)
	}
	for i := 1; i <= opts.Nodes; i++ {
		b.boot(t, i, opts)
	}
	// Runs first: all nodes die at once rather than one Close at a time.
	t.Cleanup(func() {
		for _, n := range s.Nodes {
			if alive(n.PID, n.Start) {
				_ = syscall.Kill(n.PID, syscall.SIGKILL)
			}
		}
	})
	s.Ready = true
	if err := s.save(); err != nil {
		t.Fatalf("bed: write state: %v", err)
	}
	return b
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Start builds a bed outside a test (the bed command, a TestMain sharing
// one bed between tests). Close tears it down. Work files go to dir
// (a new temporary directory when empty), which Close removes; log gets
// progress and teardown messages (nil: none).
func Start(opts Options, dir string, log io.Writer) (*Bed, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "pacer-bed-")
		if err != nil {
			return nil, err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	opts.dirs = append(opts.dirs, dir)
	r := newRunner(dir, log)
	var b *Bed
	if err := r.do(func() { b = Up(r, opts) }); err != nil {
		return nil, errors.Join(err, r.close(), os.RemoveAll(dir))
	}
	b.r = r
	return b, nil
}

// Close tears down a bed made by Start.
func (b *Bed) Close() error {
	if b.r == nil {
		return errors.New("bed: Close is for beds made by Start; Up tears down through t.Cleanup")
	}
	return b.r.close()
}

// VIP returns the i-th address reserved for virtual IPs (PREFIX.100+i).
func (b *Bed) VIP(i int) string { return fmt.Sprintf("%s.%d", b.Prefix, 100+i) }

// Node returns the node called name (node1, node2, ...), or nil.
func (b *Bed) Node(name string) *Node {
	for _, n := range b.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}
