package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pacer/test/libvirthost"
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
	// Domains' cgroups left by libvirt, then the "machine" parents if we
	// caused them and no other bed still uses them.
	libvirthost.RemoveMachineCgroups(b.Nodes)
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
