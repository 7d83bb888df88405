// Package netns makes throw-away network namespaces for tests with
// iproute2, so tests that add addresses, send ARP or watch netlink never
// touch the host's network. Every namespace is named
// pacer-t<PID>-<random> and deleted by t.Cleanup, also when the test
// fails; namespaces left behind by a test binary that was killed are
// swept by the next New (only names whose PID no longer runs).
package netns

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	vnetns "github.com/vishvananda/netns"
)

// Dir is where iproute2 keeps named namespaces.
const Dir = "/run/netns"

// prefix starts the name of every namespace this package makes.
const prefix = "pacer-t"

// NS is a named network namespace.
type NS struct {
	Name string
}

// Path is the namespace file, for netns.GetFromPath or nsenter --net=.
func (n *NS) Path() string { return filepath.Join(Dir, n.Name) }

// Require skips the test unless it runs as root with ip(8) installed.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) from Debian package iproute2")
	}
}

// New creates a namespace with lo up and registers its deletion.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t)
	sweep()
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := &NS{Name: fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), hex.EncodeToString(b[:]))}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", n.Name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
		}
	})
	n.Must(t, "ip", "link", "set", "lo", "up")
	return n
}

// Do runs fn on an OS thread that has entered the namespace: sockets made
// by fn (AF_PACKET, netlink) belong to the namespace. The thread is
// discarded if it cannot be moved back.
func (n *NS) Do(fn func() error) error { return DoPath(n.Path(), fn) }

// DoPath is Do for the namespace file at path: a name under Dir, or
// /proc/PID/ns/net of a process that holds an unnamed namespace.
func DoPath(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := vnetns.Get()
		if err != nil {
			errc <- fmt.Errorf("get current network namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := vnetns.GetFromPath(path)
		if err != nil {
			errc <- fmt.Errorf("open %s: %w", path, err)
			return
		}
		defer target.Close()
		if err := vnetns.Set(target); err != nil {
			errc <- fmt.Errorf("enter %s: %w", path, err)
			return
		}
		ferr := fn()
		// Back in the original namespace the thread may serve other
		// goroutines again; otherwise it ends with this one.
		if err := vnetns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// Exec runs a command inside the namespace and returns its combined
// output.
func (n *NS) Exec(args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("in %s: %s: %w: %s", n.Name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Must runs a command inside the namespace and fails the test on error.
func (n *NS) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Veth links two namespaces with a veth pair: aIf in a with address aAddr
// (CIDR, may be empty) and bIf in b with bAddr; both are brought up. It
// returns the MAC addresses of aIf and bIf.
func Veth(t testing.TB, a *NS, aIf, aAddr string, b *NS, bIf, bAddr string) (aMAC, bMAC string) {
	t.Helper()
	a.Must(t, "ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	for _, side := range []struct {
		ns     *NS
		ifname string
		addr   string
		hwaddr *string
	}{{a, aIf, aAddr, &aMAC}, {b, bIf, bAddr, &bMAC}} {
		if side.addr != "" {
			side.ns.Must(t, "ip", "addr", "add", side.addr, "dev", side.ifname)
		}
		side.ns.Must(t, "ip", "link", "set", side.ifname, "up")
		mac := side.ns.Must(t, "cat", "/sys/class/net/"+side.ifname+"/address")
		*side.hwaddr = strings.TrimSpace(mac)
	}
	return aMAC, bMAC
}

// Delete deletes the named namespace (made by whoever: the beds name
// theirs themselves); one that does not exist is no error.
func Delete(name string) error {
	if name == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(Dir, name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, out)
	}
	return nil
}

// NeighbourOn returns the namespace's neighbour entry for ip on dev: the
// MAC address it would send to ("" when there is none) and the entry's
// state (REACHABLE, STALE, ...). It sends nothing on the wire.
func (n *NS) NeighbourOn(dev, ip string) (mac, state string, err error) {
	out, err := n.Exec("ip", "neigh", "show", ip, "dev", dev)
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			mac = f[i+1]
		}
	}
	if len(f) > 0 {
		state = f[len(f)-1]
	}
	return mac, state, nil
}

// CheckPrefix checks the first three octets of a bed's bridge /24
// ("10.77.0"; example is the one to show in the error). test/bed and
// test/clusterbed configure it only inside their own namespaces, and
// refuse 127.* and 192.0.2, which the host uses itself.
func CheckPrefix(prefix, example string) error {
	parts := strings.Split(prefix, ".")
	if len(parts) != 3 {
		return fmt.Errorf("prefix %q: want three octets such as %s", prefix, example)
	}
	for _, x := range parts {
		var v int
		if _, err := fmt.Sscanf(x, "%d", &v); err != nil || v < 0 || v > 255 || fmt.Sprint(v) != x {
			return fmt.Errorf("prefix %q: bad octet %q", prefix, x)
		}
	}
	if prefix == "192.0.2" || parts[0] == "127" {
		return fmt.Errorf("prefix %q is taken by the host", prefix)
	}
	return nil
}

// Listening reports whether the network namespace of pid has a socket
// bound to port (table "udp") or listening on it ("tcp"): how a test
// waits for a daemon it started in a namespace, without sending to it.
func Listening(pid int, table string, port int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 3 && strings.HasSuffix(f[1], want) && (table == "udp" || f[3] == "0A") {
			return true
		}
	}
	return false
}

// sweep deletes namespaces of this package whose test process is gone.
func sweep() {
	ents, err := os.ReadDir(Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidStr, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || err == syscall.EPERM {
			continue // still running
		}
		_ = exec.Command("ip", "netns", "del", e.Name()).Run()
	}
}
