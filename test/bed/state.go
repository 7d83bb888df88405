package bed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"pacer/test/internal/bedstate"
	"pacer/test/netns"
	"pacer/test/systemdbed"
)

// StateDir holds one JSON file per bed that is up (or was, when its
// owner died). It is on the host's /run, so it goes away on reboot with
// everything it describes.
const StateDir = "/run/pacer-bed"

// State is what a bed made, saved as it goes (namespace names before
// they are made, each node as soon as it booted), so that Teardown can
// remove everything after the process that built the bed died. A node
// whose owner died mid-boot, before it was recorded, is removed by
// systemdbed's own sweep (its cgroup carries the owner's PID). Every
// field names something the bed created itself.
type State struct {
	ID         string      `json:"id"`
	Owner      int         `json:"owner"`       // PID of the process that holds the bed
	OwnerStart uint64      `json:"owner_start"` // its start time, against PID reuse
	Created    time.Time   `json:"created"`
	Prefix     string      `json:"prefix"`
	Switch     string      `json:"switch_netns"` // holds br0 and the host ends of the veths
	Client     string      `json:"client_netns"`
	Nodes      []NodeState `json:"nodes"`
	// Dirs are removed by Teardown (node work dirs, the command's dir).
	Dirs  []string `json:"dirs,omitempty"`
	Ready bool     `json:"ready"`
}

// NodeState is one node as recorded.
type NodeState struct {
	Name         string `json:"name"`
	Addr         string `json:"addr"`
	MAC          string `json:"mac,omitempty"`
	PID          int    `json:"pid"`     // host PID of the node's systemd
	Start        uint64 `json:"start"`   // its start time
	Unshare      int    `json:"unshare"` // its parent
	UnshareStart uint64 `json:"unshare_start"`
	Cgroup       string `json:"cgroup"` // cgroup2 directory of the node
	Dir          string `json:"dir"`    // host-side work dir
}

// store is StateDir as bedstate sees it.
const store = bedstate.Dir(StateDir)

// Path is the state file of bed id.
func Path(id string) string { return store.Path(id) }

func (s *State) save() error { return store.Save(s.ID, s) }

// Load reads the state file of bed id.
func Load(id string) (*State, error) { return bedstate.Load[State](store, id) }

// List returns the ids of every recorded bed.
func List() []string { return store.List() }

// OwnerAlive reports whether the process that holds the bed still runs.
func (s *State) OwnerAlive() bool { return alive(s.Owner, s.OwnerStart) }

func startTime(pid int) uint64         { return bedstate.StartTime(pid) }
func alive(pid int, start uint64) bool { return bedstate.Alive(pid, start) }

// Sweep tears down every recorded bed whose owner is gone: the leftovers
// of a test binary that was killed, or of a bed command that crashed.
// Beds whose owner runs are left alone.
func Sweep() []error {
	return store.Sweep(func(id string) (bedstate.Bed, error) { return Load(id) })
}

// Teardown removes what the state records, without any help from the
// process that made it: it SIGKILLs the nodes' systemd (only processes
// whose PID and start time match the record; the kernel then kills every
// process of the node's pid namespace), waits for them, removes their
// cgroups, deletes the switch and client namespaces (taking the bridge
// and every veth with them), removes the recorded directories and the
// state file. Missing pieces are not errors.
func (s *State) Teardown() error {
	return store.Teardown(s.ID, s.remove)
}

func (s *State) remove() error {
	var errs []error
	for _, n := range s.Nodes {
		if alive(n.PID, n.Start) {
			_ = syscall.Kill(n.PID, syscall.SIGKILL)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range s.Nodes {
		for (alive(n.PID, n.Start) || alive(n.Unshare, n.UnshareStart)) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(n.PID, n.Start) {
			errs = append(errs, fmt.Errorf("node %s: systemd %d survived SIGKILL", n.Name, n.PID))
		}
	}
	for _, n := range s.Nodes {
		if err := removeCgroup(n.Cgroup); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
		}
	}
	for _, ns := range []string{s.Client, s.Switch} {
		if err := netns.Delete(ns); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		for _, d := range s.Dirs {
			if d != "" && d != "/" && filepath.IsAbs(d) {
				_ = os.RemoveAll(d)
			}
		}
	}
	return errors.Join(errs...)
}

// lock takes the lock of StateDir that teardowns hold.
func lock() (func(), error) { return store.Lock() }

// removeCgroup kills what is left in a node's cgroup and removes it. It
// only touches directories named by the bed (systemdbed's pacer-sdbed-*
// below a cgroup2 mount).
func removeCgroup(cg string) error {
	if cg == "" || !strings.HasPrefix(filepath.Base(cg), "pacer-sdbed-") {
		return nil
	}
	return systemdbed.RemoveCgroup(cg)
}
