package clusterbed

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestScenarioHelpers checks the tools the controller scenarios rely on,
// with the VIP moved by hand: the poller sees which node answers and
// records the outage of a takeover, the safety checker catches a VIP on
// two live nodes and accepts a takeover from a destroyed node, a frozen
// node stops answering, and KillAll takes a node down behind libvirt's
// back.
func TestScenarioHelpers(t *testing.T) {
	b := Up(t, Options{Nodes: 2, NoCluster: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n1, n2 := b.Nodes[0], b.Nodes[1]
	vip := b.VIP(0)
	for _, n := range b.Nodes {
		if _, err := n.Exec("systemctl", "start", "haproxy"); err != nil {
			t.Fatal(err)
		}
	}
	if !n1.UnitActive("haproxy.service") || len(n1.UnitPIDs("haproxy.service")) == 0 {
		t.Fatal("haproxy not active on node1")
	}
	if _, err := n1.Exec("ip", "addr", "add", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	safety, err := b.WatchSafety([]string{vip}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer safety.Stop()
	p, err := b.Client.Poll(vip+":8080", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	waitAnswer(t, p, "haproxy ok from node1")

	// A second live holder is what the checker is for.
	if _, err := n2.Exec("ip", "addr", "add", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := n2.Exec("ip", "addr", "del", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	v := safety.Violations()
	if len(v) == 0 || v[0].What != vip {
		t.Fatalf("VIP on two live nodes not reported: %v", v)
	}
	t.Logf("checker caught %d rounds with two holders, first: %v", len(v), v[0])
	seen := len(v)

	// A hung node keeps its address but answers nothing.
	if err := n1.Freeze(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, ok := p.Last(); ok {
		t.Error("a frozen node1 still answers")
	}
	// Fence it, then take over: no violation.
	t0 := time.Now()
	if err := n1.Destroy(); err != nil {
		t.Fatal(err)
	}
	t.Logf("destroy of a frozen node took %v", time.Since(t0).Round(time.Millisecond))
	if st, _ := n1.DomainState(ctx); st != "shutoff" {
		t.Fatalf("node1 is %s after destroy", st)
	}
	if _, err := n2.Exec("ip", "addr", "add", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	// The client still has node1's MAC for the VIP; pacer sends a
	// gratuitous ARP on takeover, here the neighbour entry is dropped.
	if _, err := b.Client.Exec("ip", "neigh", "flush", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, p, "haproxy ok from node2")
	if v := safety.Violations(); len(v) != seen {
		t.Errorf("takeover after a destroy reported as a violation: %v", v[seen:])
	}
	out := p.Outages()
	if len(out) == 0 || out[len(out)-1].Before != "haproxy ok from node1" || out[len(out)-1].After != "haproxy ok from node2" {
		t.Fatalf("outages %+v", out)
	}
	t.Logf("outage node1 -> node2: %v (rounds of the checker: %d)", out[len(out)-1].Duration().Round(time.Millisecond), safety.Rounds())

	// Everything of node2 killed at once, libvirt not asked.
	before := n2.Processes()
	if n2.KillAll() == 0 {
		t.Fatal("node2 has no processes")
	}
	// libvirt learns of it from its controller, which reaps the domain's
	// PID 1 only once the kernel has reaped every process of the pid
	// namespace: normally well under a second.
	killed := time.Now()
	deadline := killed.Add(20 * time.Second)
	for {
		st, err := n2.DomainState(ctx)
		if st == "shutoff" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("libvirt still says %q (%v) %v after KillAll; left of node2:\n%s\n%s",
				st, err, time.Since(killed).Round(time.Millisecond), n2.describeProcesses(), b.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("libvirt saw node2 shut off %v after KillAll", time.Since(killed).Round(time.Millisecond))
	for _, pid := range before {
		if !zombie(pid) {
			t.Errorf("process %d of node2 survived KillAll", pid)
		}
	}
	if err := n1.PowerOn(); err != nil {
		t.Fatal(err)
	}
	if err := n1.WaitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := n1.Addrs(); len(got) != 1 || got[0] != n1.Addr {
		t.Errorf("node1 came back with %v: a fenced node must not keep its VIP", got)
	}
}

func waitAnswer(t *testing.T, p *Poller, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		last, ok := p.Last()
		if ok && strings.TrimSpace(last) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("client never got %q (last %q, answering %v)", want, last, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
