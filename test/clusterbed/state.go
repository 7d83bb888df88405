package clusterbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pacer/test/internal/bedstate"
	"pacer/test/libvirthost"
	"pacer/test/netns"
)

// StateDir holds one JSON file per bed that is up (or was, when its owner
// died). It is on the host's /run, so it goes away on reboot together with
// everything it describes.
const StateDir = "/run/pacer-clusterbed"

// State is what a bed made, written before each piece is made, so that
// Teardown can remove everything after the process that built the bed
// died. Every field names something the bed created itself.
type State struct {
	ID         string    `json:"id"`
	Owner      int       `json:"owner"`
	OwnerStart uint64    `json:"owner_start"`
	Created    time.Time `json:"created"`
	Dir        string    `json:"dir"`
	Prefix     string    `json:"prefix"`
	Fabric     string    `json:"fabric_netns"`
	Client     string    `json:"client_netns"`
	// Cgroup is the bed's cgroup2 directory: libvirtd, every domain and
	// every daemon of the bed run below it.
	Cgroup  string      `json:"cgroup"`
	Procs   []ProcState `json:"procs,omitempty"`
	Domains []string    `json:"domains,omitempty"`
	// HostDirs were missing on the host and made for libvirtd's mounts.
	HostDirs []string `json:"host_dirs,omitempty"`
	Ready    bool     `json:"ready"`
}

// ProcState is a daemon the bed started, by PID and start time.
type ProcState struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// store is StateDir as bedstate sees it.
const store = bedstate.Dir(StateDir)

func statePath(id string) string { return store.Path(id) }

func (s *State) save() error { return store.Save(s.ID, s) }

// Load reads the state file of bed id.
func Load(id string) (*State, error) { return bedstate.Load[State](store, id) }

// List returns the ids of every recorded bed.
func List() []string { return store.List() }

// OwnerAlive reports whether the process that holds the bed still runs.
func (s *State) OwnerAlive() bool { return alive(s.Owner, s.OwnerStart) }

// Sweep tears down every recorded bed whose owner is gone (a test binary
// that was killed, a keeper that crashed). Beds whose owner runs are left
// alone.
func Sweep() []error {
	return store.Sweep(func(id string) (bedstate.Bed, error) { return Load(id) })
}

// Teardown removes what the state records, with no help from the process
// that made it: domains destroyed and undefined while libvirtd answers,
// recorded daemons stopped (PID and start time must match), whatever is
// left in the bed's cgroup killed, libvirt's empty per-domain cgroups and
// the bed's cgroup removed, both namespaces deleted (the bridge and every
// veth go with them), directories and the state file removed. Missing
// pieces are not errors.
func (s *State) Teardown() error {
	return store.Teardown(s.ID, s.remove)
}

func (s *State) remove() error {
	var errs []error
	sock := filepath.Join(s.Dir, "run", "libvirt-sock")
	if p := s.proc("libvirtd"); p != nil && alive(p.PID, p.Start) {
		for _, d := range s.Domains {
			_, _ = virsh(sock, "destroy", d)
			_, _ = virsh(sock, "undefine", d)
		}
	}
	for i := len(s.Procs) - 1; i >= 0; i-- {
		p := s.Procs[i]
		if alive(p.PID, p.Start) {
			_ = syscall.Kill(p.PID, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range s.Procs {
		for alive(p.PID, p.Start) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(p.PID, p.Start) {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
	// libvirt_lxc controllers outlive libvirtd, and domains outlive
	// their controller: everything in the bed's cgroup goes.
	if err := killCgroup(s.Cgroup); err != nil {
		errs = append(errs, err)
	}
	libvirthost.RemoveMachineCgroups(s.Domains)
	if err := removeCgroup(s.Cgroup); err != nil {
		errs = append(errs, err)
	}
	for _, ns := range []string{s.Client, s.Fabric} {
		if err := netns.Delete(ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range s.HostDirs {
		_ = os.Remove(d) // only when empty
	}
	if len(errs) == 0 && s.Dir != "" && s.Dir != "/" && filepath.IsAbs(s.Dir) && os.Getenv("PACER_CLUSTERBED_KEEP") == "" {
		_ = os.RemoveAll(s.Dir)
	}
	return errors.Join(errs...)
}

func (s *State) proc(name string) *ProcState {
	for i := range s.Procs {
		if s.Procs[i].Name == name {
			return &s.Procs[i]
		}
	}
	return nil
}

// cgroupPIDs lists every process in the cgroup2 subtree at dir.
func cgroupPIDs(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// killCgroup SIGKILLs every process below dir and waits until none is
// left (zombies count as gone: their parent may be outside).
func killCgroup(dir string) error {
	if !ownCgroup(dir) {
		return nil
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		live := 0
		for _, pid := range cgroupPIDs(dir) {
			if !zombie(pid) {
				live++
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if live == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: %d processes survive SIGKILL", dir, live)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// removeCgroup removes the empty subtree at dir, deepest first.
func removeCgroup(dir string) error {
	if !ownCgroup(dir) {
		return nil
	}
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	deadline := time.Now().Add(5 * time.Second)
	for i := len(dirs) - 1; i >= 0; i-- {
		for {
			err := os.Remove(dirs[i])
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("remove cgroup %s: %w", dirs[i], err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// ownCgroup guards the cgroup helpers: only directories named by a bed.
func ownCgroup(dir string) bool {
	return dir != "" && strings.HasPrefix(filepath.Base(dir), "pacer-cbed-") && strings.HasPrefix(dir, "/sys/fs/cgroup/")
}

func startTime(pid int) uint64         { return bedstate.StartTime(pid) }
func zombie(pid int) bool              { return bedstate.Zombie(pid) }
func alive(pid int, start uint64) bool { return bedstate.Alive(pid, start) }
