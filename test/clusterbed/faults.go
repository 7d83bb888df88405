package clusterbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KillAll SIGKILLs every process of the node at once, behind libvirt's
// back (a kernel panic or power cut as the node's peers see it). libvirt
// notices only that the domain's init died and marks it shut off.
func (n *Node) KillAll() int { return n.signalAll(syscall.SIGKILL) }

// Freeze stops every process of the node's systemd through the cgroup2
// freezer (a hung machine: its addresses stay, nothing answers) and waits
// until the kernel reports it frozen. Thaw undoes it. The domain's init
// shim is left running, as the power switch of a hung machine still
// works: a fence kills the frozen processes at once (SIGKILL reaches
// frozen tasks) instead of waiting for libvirt's SIGKILL fallback.
func (n *Node) Freeze() error { return n.freeze(true) }

// Thaw resumes a frozen node.
func (n *Node) Thaw() error { return n.freeze(false) }

// systemdCgroups are the cgroups below the node's own: those of its
// systemd (init.scope, system.slice, ...), not the shim's.
func (n *Node) systemdCgroups() []string {
	ents, _ := os.ReadDir(n.Cgroup())
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, filepath.Join(n.Cgroup(), e.Name()))
		}
	}
	return out
}

func (n *Node) freeze(on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	cgs := n.systemdCgroups()
	if len(cgs) == 0 {
		return fmt.Errorf("%s: no cgroups below %s (not running?)", n.Name, n.Cgroup())
	}
	for _, cg := range cgs {
		if err := os.WriteFile(filepath.Join(cg, "cgroup.freeze"), []byte(v), 0o644); err != nil {
			return fmt.Errorf("%s: freeze=%s: %w", n.Name, v, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, cg := range cgs {
		for {
			data, _ := os.ReadFile(filepath.Join(cg, "cgroup.events"))
			if strings.Contains(string(data), "frozen "+v) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: %s/cgroup.events still says %q", n.Name, cg, strings.TrimSpace(string(data)))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// thawLeftovers clears the freezer on the cgroups a frozen node left
// behind when it was destroyed: a new boot reuses them.
func (n *Node) thawLeftovers() {
	_ = filepath.WalkDir(n.Cgroup(), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if b, _ := os.ReadFile(filepath.Join(p, "cgroup.freeze")); strings.TrimSpace(string(b)) == "1" {
				_ = os.WriteFile(filepath.Join(p, "cgroup.freeze"), []byte("0"), 0o644)
			}
		}
		return nil
	})
}

// StopAll sends SIGSTOP to every process of the node's systemd (the
// classic "hung node" of CTS). As with Freeze, the init shim keeps
// running, so a fence takes effect at once.
func (n *Node) StopAll() int { return n.signalSystemd(syscall.SIGSTOP) }

func (n *Node) signalSystemd(sig syscall.Signal) int {
	count := 0
	for _, cg := range n.systemdCgroups() {
		for _, p := range cgroupPIDs(cg) {
			if !zombie(p) {
				_ = syscall.Kill(p, sig)
				count++
			}
		}
	}
	return count
}

// HostIf is the fabric-side end of the node's veth (vnetN on br0), as
// libvirt named it for the running domain.
func (n *Node) HostIf() (string, error) {
	out, err := n.bed.Virsh("domiflist", n.Name)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 5 && strings.EqualFold(f[4], n.MAC) {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("%s: no interface with MAC %s in:\n%s", n.Name, n.MAC, out)
}

// CutLink takes the node's port on br0 down in the fabric namespace: the
// node keeps running but hears and reaches nobody (nor fence_virtd).
func (n *Node) CutLink() error { return n.link("down") }

// RestoreLink brings the node's port on br0 back up.
func (n *Node) RestoreLink() error { return n.link("up") }

func (n *Node) link(state string) error {
	ifname, err := n.HostIf()
	if err != nil {
		return err
	}
	return run("ip", "-n", n.bed.Fabric, "link", "set", ifname, state)
}

// UnitCgroup is the host path of a unit's cgroup in the node.
func (n *Node) UnitCgroup(unit string) string {
	return filepath.Join(n.Cgroup(), "system.slice", unit)
}

// UnitPIDs are the live processes of a unit of the node (host PIDs), read
// from its cgroup: no D-Bus round trip, so cheap enough to sample often.
func (n *Node) UnitPIDs(unit string) []int {
	data, _ := os.ReadFile(filepath.Join(n.UnitCgroup(unit), "cgroup.procs"))
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && !zombie(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// KillUnit sends sig to every process of a unit of the node (e.g.
// haproxy.service with SIGKILL: a crashed service, for systemd and for
// pacer's watch).
func (n *Node) KillUnit(unit string, sig syscall.Signal) int {
	pids := n.UnitPIDs(unit)
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
	return len(pids)
}

// UnitActive asks the node's systemd whether unit is active.
func (n *Node) UnitActive(unit string) bool {
	out, _ := n.Exec("systemctl", "is-active", unit)
	return strings.TrimSpace(out) == "active"
}
