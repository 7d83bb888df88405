package bed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"pacer/test/systemdbed"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// Path is the state file of bed id.
func Path(id string) string { return filepath.Join(StateDir, id+".json") }

func (s *State) save() error {
	if err := os.MkdirAll(StateDir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := Path(s.ID) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, Path(s.ID))
}

// Load reads the state file of bed id.
func Load(id string) (*State, error) {
	b, err := os.ReadFile(Path(id))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", Path(id), err)
	}
	return &s, nil
}

// List returns the ids of every recorded bed.
func List() []string {
	ents, _ := os.ReadDir(StateDir)
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// OwnerAlive reports whether the process that holds the bed still runs.
func (s *State) OwnerAlive() bool { return alive(s.Owner, s.OwnerStart) }

// startTime is field 22 of /proc/PID/stat (clock ticks since boot); 0 when
// the process is gone.
func startTime(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// alive: pid runs, is the same process (start time), and is no zombie.
func alive(pid int, start uint64) bool {
	if pid <= 0 || startTime(pid) != start {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// Sweep tears down every recorded bed whose owner is gone: the leftovers
// of a test binary that was killed, or of a bed command that crashed.
// Beds whose owner runs are left alone.
func Sweep() []error {
	var errs []error
	for _, id := range List() {
		s, err := Load(id)
		if err != nil {
			// A half-written file of a dead run; nothing to go by.
			if info, e := os.Stat(Path(id)); e == nil && time.Since(info.ModTime()) > time.Minute {
				_ = os.Remove(Path(id))
			}
			continue
		}
		if s.OwnerAlive() {
			continue
		}
		if err := s.Teardown(); err != nil {
			errs = append(errs, fmt.Errorf("bed %s: %w", id, err))
		}
	}
	return errs
}

// Teardown removes what the state records, without any help from the
// process that made it: it SIGKILLs the nodes' systemd (only processes
// whose PID and start time match the record; the kernel then kills every
// process of the node's pid namespace), waits for them, removes their
// cgroups, deletes the switch and client namespaces (taking the bridge
// and every veth with them), removes the recorded directories and the
// state file. Missing pieces are not errors.
func (s *State) Teardown() error {
	// Two processes may sweep the same dead bed at once: take turns, and
	// the second finds nothing left to do.
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(Path(s.ID)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
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
		if err := delNetns(ns); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		for _, d := range s.Dirs {
			if d != "" && d != "/" && filepath.IsAbs(d) {
				_ = os.RemoveAll(d)
			}
		}
		if err := os.Remove(Path(s.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lock takes an exclusive lock on StateDir/.lock.
func lock() (func(), error) {
	if err := os.MkdirAll(StateDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(StateDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// delNetns deletes a named network namespace of the bed, if it exists.
func delNetns(name string) error {
	if name == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join("/run/netns", name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, out)
	}
	return nil
}

// removeCgroup kills what is left in a node's cgroup and removes it. It
// only touches directories named by the bed (systemdbed's pacer-sdbed-*
// below a cgroup2 mount).
func removeCgroup(cg string) error {
	if cg == "" || !strings.HasPrefix(filepath.Base(cg), "pacer-sdbed-") {
		return nil
	}
	return systemdbed.RemoveCgroup(cg)
}
