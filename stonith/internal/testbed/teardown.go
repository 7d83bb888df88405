package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// teardown stops everything Start started, newest first, each by PID.
func (b *Bed) teardown() {
	if os.Getenv("PACER_TESTBED_KEEP") != "" {
		b.t.Logf("testbed: keeping %s (PACER_TESTBED_KEEP)", b.Dir)
	}
	// Domains first: LXC controllers outlive libvirtd.
	if b.libvirtdAlive() {
		for _, n := range b.Nodes {
			b.Virsh("destroy", n)
			b.Virsh("undefine", n)
		}
	}
	for i := len(b.procs) - 1; i >= 0; i-- {
		p := b.procs[i]
		if p.name == "netns holder" {
			continue // last, after the stray processes below
		}
		stop(p, 5*time.Second)
	}
	// Stray libvirt_lxc controllers (from pid files in our private state)
	// and node processes.
	pidFiles, _ := filepath.Glob(filepath.Join(b.Dir, "state", "run", "lxc", "*.pid"))
	for _, f := range pidFiles {
		data, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
			if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.HasPrefix(string(comm), "libvirt_lxc") {
				b.t.Logf("testbed: killing leftover libvirt_lxc %d", pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, n := range b.Nodes {
		for _, pid := range b.NodePIDs(n) {
			b.t.Logf("testbed: killing leftover process %d of %s", pid, n)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, p := range b.procs {
		if p.name == "netns holder" {
			stop(p, 2*time.Second)
		}
	}
	// Empty cgroups of our domains whose controller is gone (libvirt
	// leaves them when a domain is destroyed while paused, and removes the
	// others a moment after the controller exits), then the "machine"
	// parents if we caused them. Another bed running at the same time may
	// still use them: then they stay, and that bed removes them.
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, n := range b.Nodes {
			dirs, _ := filepath.Glob("/sys/fs/cgroup/*/machine/lxc-*-" + n + ".libvirt-lxc")
			for _, d := range dirs {
				pidStr := strings.TrimPrefix(filepath.Base(d), "lxc-")
				pidStr, _, _ = strings.Cut(pidStr, "-")
				if pid, err := strconv.Atoi(pidStr); err == nil && syscall.Kill(pid, 0) != nil {
					os.Remove(d)
				}
			}
		}
		left := 0
		data, _ := os.ReadFile(cgroupMarker)
		for _, c := range strings.Fields(string(data)) {
			if !strings.HasPrefix(c, "/sys/fs/cgroup/") || filepath.Base(c) != "machine" {
				continue
			}
			if err := os.Remove(c); err != nil && !os.IsNotExist(err) { // only succeeds when empty
				left++
			}
		}
		if left == 0 {
			os.Remove(cgroupMarker)
		}
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, d := range b.mkdirs {
		os.Remove(d)
	}
	if os.Getenv("PACER_TESTBED_KEEP") == "" {
		os.RemoveAll(b.Dir)
	}
	close(b.spawn)
}

func (b *Bed) libvirtdAlive() bool {
	for _, p := range b.procs {
		if p.name == "libvirtd" {
			select {
			case <-p.done:
				return false
			default:
				return true
			}
		}
	}
	return false
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs; by PID only.
func stop(p *proc, grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Stats formats timings as "median M, p95 P, max X (n=N)".
func Stats(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	p95 := s[min(len(s)-1, (len(s)*95+99)/100-1)]
	r := func(x time.Duration) time.Duration { return x.Round(100 * time.Microsecond) }
	return fmt.Sprintf("median %v, p95 %v, max %v (n=%d)", r(s[len(s)/2]), r(p95), r(s[len(s)-1]), len(s))
}
