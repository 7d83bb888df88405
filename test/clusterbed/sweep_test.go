package clusterbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestSweepAfterCrash brings a bed up with the bed command, SIGKILLs its
// keeper (libvirtd and fence_virtd die with it, the domains do not), and
// checks that Sweep leaves no process, cgroup, namespace, directory or
// state file of it.
func TestSweepAfterCrash(t *testing.T) {
	Require(t)
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmdBin := filepath.Join(t.TempDir(), "clusterbed")
	build := exec.Command("go", "build", "-o", cmdBin, "./test/clusterbed/cmd/clusterbed")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	name := fmt.Sprintf("sw%d", os.Getpid())
	t.Cleanup(func() {
		if s, err := Load(name); err == nil {
			_ = s.Teardown()
		}
		_ = os.Remove(filepath.Join(os.TempDir(), "pacer-cbed-"+name+".log"))
	})
	if out, err := exec.Command(cmdBin, "up", "-name", name, "-nodes", "1", "-no-cluster").CombinedOutput(); err != nil {
		t.Fatalf("clusterbed up: %v\n%s", err, out)
	}
	s, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Attach(name)
	if err != nil {
		t.Fatal(err)
	}
	node := b.Nodes[0].Processes()
	if len(node) == 0 {
		t.Fatal("node1 runs nothing")
	}
	if err := syscall.Kill(s.Owner, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for s.OwnerAlive() {
		time.Sleep(10 * time.Millisecond)
	}
	if errs := Sweep(); len(errs) > 0 {
		t.Fatalf("sweep: %v", errs)
	}
	for _, p := range append(node, pids(s.Procs)...) {
		if !zombie(p) {
			t.Errorf("process %d survived the sweep", p)
		}
	}
	for _, path := range []string{s.Cgroup, "/run/netns/" + s.Fabric, "/run/netns/" + s.Client, s.Dir, statePath(name)} {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s is still there", path)
		}
	}
}

func pids(ps []ProcState) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}
