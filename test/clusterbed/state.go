package clusterbed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StateDir holds one JSON file per bed that is up (or was, when its owner
// died). It is on the host's /run, so it goes away on reboot together with
// everything it describes.
const StateDir = "/run/pacer-clusterbed"

// machineMarker lists /sys/fs/cgroup/*/machine directories that a bed
// made libvirt create. The fencing beds of stonith/internal/testbed use
// the same file, so whichever bed finishes last removes them.
const machineMarker = "/tmp/pacer-fencebed-cgroups"

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

func statePath(id string) string { return filepath.Join(StateDir, id+".json") }

func (s *State) save() error {
	if err := os.MkdirAll(StateDir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath(s.ID) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, statePath(s.ID))
}

// Load reads the state file of bed id.
func Load(id string) (*State, error) {
	b, err := os.ReadFile(statePath(id))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", statePath(id), err)
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

// Sweep tears down every recorded bed whose owner is gone (a test binary
// that was killed, a keeper that crashed). Beds whose owner runs are left
// alone.
func Sweep() []error {
	var errs []error
	for _, id := range List() {
		s, err := Load(id)
		if err != nil {
			if info, e := os.Stat(statePath(id)); e == nil && time.Since(info.ModTime()) > time.Minute {
				_ = os.Remove(statePath(id))
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

// Teardown removes what the state records, with no help from the process
// that made it: domains destroyed and undefined while libvirtd answers,
// recorded daemons stopped (PID and start time must match), whatever is
// left in the bed's cgroup killed, libvirt's empty per-domain cgroups and
// the bed's cgroup removed, both namespaces deleted (the bridge and every
// veth go with them), directories and the state file removed. Missing
// pieces are not errors.
func (s *State) Teardown() error {
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(statePath(s.ID)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
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
	removeMachineCgroups(s.Domains)
	if err := removeCgroup(s.Cgroup); err != nil {
		errs = append(errs, err)
	}
	for _, ns := range []string{s.Client, s.Fabric} {
		if err := delNetns(ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range s.HostDirs {
		_ = os.Remove(d) // only when empty
	}
	if len(errs) == 0 {
		if s.Dir != "" && s.Dir != "/" && filepath.IsAbs(s.Dir) && os.Getenv("PACER_CLUSTERBED_KEEP") == "" {
			_ = os.RemoveAll(s.Dir)
		}
		if err := os.Remove(statePath(s.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
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

// lock serialises teardowns: two processes may sweep one dead bed.
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

// removeMachineCgroups removes libvirt's empty cgroup v1 directories of
// the named domains whose controller is gone (libvirt leaves them when a
// domain dies while frozen), then the "machine" parents that beds caused,
// when empty.
func removeMachineCgroups(domains []string) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, n := range domains {
			dirs, _ := filepath.Glob("/sys/fs/cgroup/*/machine/lxc-*-" + n + ".libvirt-lxc")
			for _, d := range dirs {
				pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), "lxc-"), "-")
				if pid, err := strconv.Atoi(pidStr); err == nil && syscall.Kill(pid, 0) != nil {
					_ = os.Remove(d)
				}
			}
		}
		left := 0
		data, _ := os.ReadFile(machineMarker)
		for _, c := range strings.Fields(string(data)) {
			if !strings.HasPrefix(c, "/sys/fs/cgroup/") || filepath.Base(c) != "machine" {
				continue
			}
			if err := os.Remove(c); err != nil && !errors.Is(err, os.ErrNotExist) {
				left++
			}
		}
		if left == 0 {
			_ = os.Remove(machineMarker)
		}
		if left == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// noteMachineCgroups records the "machine" cgroup directories that do not
// exist yet: libvirt is about to create them.
func noteMachineCgroups() {
	cg, _ := filepath.Glob("/sys/fs/cgroup/*")
	var created []string
	for _, c := range cg {
		if st, err := os.Stat(c); err != nil || !st.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "machine")); errors.Is(err, os.ErrNotExist) {
			created = append(created, filepath.Join(c, "machine"))
		}
	}
	if len(created) > 0 {
		if f, err := os.OpenFile(machineMarker, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = f.WriteString(strings.Join(created, "\n") + "\n")
			f.Close()
		}
	}
}

// startTime is field 22 of /proc/PID/stat; 0 when the process is gone.
func startTime(pid int) uint64 {
	f := statFields(pid)
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// statFields are the fields of /proc/PID/stat after the command name.
func statFields(pid int) []string {
	if pid <= 0 {
		return nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// zombie reports whether pid is gone or a zombie: dead either way.
func zombie(pid int) bool {
	f := statFields(pid)
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}

func alive(pid int, start uint64) bool {
	return pid > 0 && start != 0 && startTime(pid) == start && !zombie(pid)
}
