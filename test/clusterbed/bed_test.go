package clusterbed

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBuilt()
	os.Exit(code)
}

// TestBed checks the bed itself: every node is a domain with its own
// systemd in a nested pid namespace and its own eth0, haproxy starts
// through systemd and answers the client, a cut link silences a node,
// and a destroy kills every process of the node in well under the 1.8 s
// a bare systemd PID 1 would take.
func TestBed(t *testing.T) {
	b := Up(t, Options{Nodes: 2, NoCluster: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n1, n2 := b.Nodes[0], b.Nodes[1]
	for _, n := range b.Nodes {
		pid, err := n.PID()
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		comm, _ := os.ReadFile("/proc/" + itoa(pid) + "/comm")
		if strings.TrimSpace(string(comm)) != "systemd" {
			t.Fatalf("%s: PID %d is %q, want systemd", n.Name, pid, comm)
		}
		if got := n.Addrs(); len(got) != 1 || got[0] != n.Addr {
			t.Fatalf("%s: eth0 addresses %v, want [%s]", n.Name, got, n.Addr)
		}
		if st, err := n.DomainState(ctx); err != nil || st != "running" {
			t.Fatalf("%s: domain state %q, %v", n.Name, st, err)
		}
	}
	if _, err := n1.Exec("systemctl", "start", "haproxy"); err != nil {
		t.Fatal(err)
	}
	body, err := b.Client.Get(n1.Addr+":8080", time.Second)
	if err != nil || strings.TrimSpace(body) != "haproxy ok from node1" {
		t.Fatalf("GET node1: %q, %v", body, err)
	}
	if out, err := n2.Exec("ping", "-c1", "-W1", n1.Addr); err != nil {
		t.Logf("ping (optional): %v %s", err, out)
	}
	if err := n1.CutLink(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.Get(n1.Addr+":8080", 300*time.Millisecond); err == nil {
		t.Fatal("node1 answers with its link cut")
	}
	if err := n1.RestoreLink(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.Get(n1.Addr+":8080", 2*time.Second); err != nil {
		t.Fatalf("node1 after the link is back: %v", err)
	}
	before := n1.Processes()
	t0 := time.Now()
	if err := n1.Destroy(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	for _, p := range before {
		if !zombie(p) {
			t.Errorf("process %d of node1 survived the destroy", p)
		}
	}
	t.Logf("virsh destroy of a systemd node took %v (%d processes)", took.Round(time.Millisecond), len(before))
	if took > 1200*time.Millisecond {
		t.Errorf("destroy took %v: the init shim should make it ~0.3 s", took)
	}
	if err := n1.PowerOn(); err != nil {
		t.Fatal(err)
	}
	if err := n1.WaitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
}
