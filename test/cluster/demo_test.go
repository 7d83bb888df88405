package cluster_test

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/api"
)

// README's first command: 'pcsctl demo' starts three real nodes, prints an
// export line a script can use, and leaves no process or file behind
// after SIGTERM.
func TestDemoStartsClusterAndCleansUp(t *testing.T) {
	dir := t.TempDir() + "/demo"
	cmd := exec.Command(bins.Pcsctl, "demo", "--no-watch", "--dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	pidRe := regexp.MustCompile(`started (node\d) \(pid (\d+)\)`)
	var pids []int
	socket := ""
	var output []string
	timeout := time.After(60 * time.Second)
	for socket == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early:\n%s", strings.Join(output, "\n"))
			}
			output = append(output, l)
			if m := pidRe.FindStringSubmatch(l); m != nil {
				pid, _ := strconv.Atoi(m[2])
				pids = append(pids, pid)
			}
			if s, ok := strings.CutPrefix(l, "export PACER_SOCKET="); ok {
				socket = s
			}
		case <-timeout:
			t.Fatalf("no export line within 60s:\n%s", strings.Join(output, "\n"))
		}
	}
	if len(pids) != 3 {
		t.Fatalf("want 3 node pids, got %v", pids)
	}
	cl := api.NewUnix(socket)
	cl.Consistent = true // as pcsctl reads
	st, err := cl.Status(ctx(t))
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 3 || st.DC == "" {
		t.Errorf("demo status: %d nodes, DC %q", len(st.Nodes), st.DC)
	}
	ids := map[string]bool{}
	for _, r := range st.Resources {
		ids[r.ID] = true
	}
	if !ids["web-ip"] || !ids["web-server"] || !ids["db"] {
		t.Errorf("demo resources missing: %+v", st.Resources)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not exit within 30s of SIGTERM")
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("node process %d still exists after the demo stopped", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("demo left %s behind", dir)
	}
}
