package bed

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/test/systemdbed"
)

func TestMain(m *testing.M) {
	systemdbed.HelperMain()
	if id := os.Getenv(crashEnv); id != "" {
		os.Exit(crashChild(id))
	}
	os.Exit(m.Run())
}

// TestUp builds a 2-node bed and checks what it promises: names,
// addresses and MACs, the client reaching each node's haproxy, node to
// node traffic, a private /var/lib/pacer, and systemd reachable over
// D-Bus.
func TestUp(t *testing.T) {
	b := Up(t, Options{Nodes: 2})
	if len(b.Nodes) != 2 || b.Nodes[0].Name != "node1" || b.Nodes[1].Addr != "10.77.0.12" {
		t.Fatalf("nodes: %+v", b.Nodes)
	}
	if st, err := Load(b.ID); err != nil || !st.Ready || len(st.Nodes) != 2 || st.Nodes[0].Cgroup == "" {
		t.Fatalf("state: %+v %v", st, err)
	}
	for _, n := range b.Nodes {
		if out := strings.TrimSpace(n.Must(t, "hostname")); out != n.Name {
			t.Errorf("hostname in %s: %q", n.Name, out)
		}
		addr := n.Must(t, "ip", "-o", "-4", "addr", "show", "dev", IfName)
		if !strings.Contains(addr, "inet "+n.Addr+"/24") {
			t.Errorf("%s eth0: %s", n.Name, addr)
		}
		if out := n.Must(t, "cat", "/sys/class/net/eth0/address"); strings.TrimSpace(out) != n.MAC {
			t.Errorf("%s MAC %q, want %s", n.Name, out, n.MAC)
		}
		if systemdbed.HaveHaproxy() {
			if _, err := n.Systemctl("start", "haproxy"); err != nil {
				t.Fatal(err)
			}
			body, err := b.Client.WaitGet(n.Addr+":8080", 5*time.Second)
			if err != nil || body != "haproxy ok from "+n.Name+"\n" {
				t.Errorf("client -> %s: %q %v", n.Name, body, err)
			}
		}
		// /var/lib/pacer is the node's own.
		n.Must(t, "touch", "/var/lib/pacer/mine")
		if _, err := os.Stat(filepath.Join(n.VarLibPacer(), "mine")); err != nil {
			t.Errorf("%s: /var/lib/pacer is not the node's: %v", n.Name, err)
		}
		if _, err := os.Stat("/var/lib/pacer/mine"); err == nil {
			t.Errorf("%s wrote into the host's /var/lib/pacer", n.Name)
		}
	}
	if systemdbed.HaveHaproxy() {
		// bash's /dev/tcp: no curl needed in the image.
		get := `exec 3<>/dev/tcp/` + b.Nodes[0].Addr + `/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3`
		if out, err := b.Nodes[1].Exec("bash", "-c", get); err != nil || !strings.Contains(out, "from node1") {
			t.Errorf("node2 -> node1: %q %v", out, err)
		}
	}
	conn, err := b.Nodes[0].Dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if v, err := conn.GetManagerProperty("SystemState"); err != nil || !strings.Contains(v, "running") && !strings.Contains(v, "degraded") {
		t.Errorf("SystemState %q %v", v, err)
	}
}

// TestClose checks that Close of a bed made by Start leaves nothing.
func TestClose(t *testing.T) {
	Require(t)
	b, err := Start(Options{Nodes: 2}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	st := *b.State
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, &st)
}

// TestSweepAfterCrash kills the process that holds a bed with SIGKILL and
// checks that the next Sweep removes every piece of it.
func TestSweepAfterCrash(t *testing.T) {
	Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id := "crash-" + filepath.Base(t.TempDir())
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), crashEnv+"="+id)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "READY" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child: %q %v", line, err)
	}
	st, err := Load(id)
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if !alive(st.Nodes[0].PID, st.Nodes[0].Start) {
		t.Fatal("the node died with its owner: nothing left to sweep")
	}
	if errs := Sweep(); len(errs) > 0 {
		t.Fatal(errs)
	}
	assertGone(t, st)
}

const crashEnv = "PACER_BED_TEST_CRASH"

// crashChild builds a bed and waits to be killed.
func crashChild(id string) int {
	b, err := Start(Options{Nodes: 1, ID: id}, "", os.Stderr)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	_ = b
	os.Stdout.WriteString("READY\n")
	time.Sleep(time.Minute)
	return 1
}

func assertGone(t *testing.T, st *State) {
	t.Helper()
	if _, err := os.Stat(Path(st.ID)); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}
	for _, ns := range []string{st.Switch, st.Client} {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); !os.IsNotExist(err) {
			t.Errorf("netns %s left: %v", ns, err)
		}
	}
	for _, n := range st.Nodes {
		if alive(n.PID, n.Start) {
			t.Errorf("node %s: systemd %d still runs", n.Name, n.PID)
		}
		if n.Cgroup == "" {
			t.Errorf("node %s: no cgroup recorded", n.Name)
		} else if _, err := os.Stat(n.Cgroup); !os.IsNotExist(err) {
			t.Errorf("node %s: cgroup %s left: %v", n.Name, n.Cgroup, err)
		}
	}
	for _, d := range st.Dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("dir %s left: %v", d, err)
		}
	}
}
