package bedtest

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"pacer/agents"
	"pacer/test/bed"
)

// TestVIP brings a VIP up on node1 through the executor, once with the
// native IPaddr2 and once with the real ocf:heartbeat:IPaddr2 script,
// both working inside the node's network namespace. It proves: the
// address lands on node1's eth0 and nowhere else; the client namespace
// reaches it (TCP, answered by node1); stop removes it and the client no
// longer gets through; after a start on node2 the client's neighbour
// entry for the VIP switches from node1's MAC to node2's without the
// client sending anything (the gratuitous ARP was seen), and the client
// then reaches node2.
func TestVIP(t *testing.T) {
	b := bed.Up(t, bed.Options{Nodes: 2, NoHaproxy: true})
	n1, n2 := b.Nodes[0], b.Nodes[1]
	listen(t, n1, 7000)
	listen(t, n2, 7000)
	ex1, _ := n1.Executor(t, n1.AgentConfig())
	ex2, _ := n2.Executor(t, n2.AgentConfig())
	for i, impl := range []string{agents.ImplNative, agents.ImplScript} {
		t.Run(impl, func(t *testing.T) {
			if impl == agents.ImplScript {
				requireScript(t, "heartbeat", "IPaddr2")
			}
			vip := b.VIP(i)
			p := vipPrim("vip-"+impl, vip, impl)
			p.Params["arp_count"] = "5"
			addr := vip + ":7000"

			must(t, ex1, p, agents.ActionMonitor, 7) // probe
			must(t, ex1, p, agents.ActionStart, 0)
			if !hasAddr(t, n1, vip) || hasAddr(t, n2, vip) {
				t.Fatalf("after start on node1: node1 %v node2 %v", hasAddr(t, n1, vip), hasAddr(t, n2, vip))
			}
			must(t, ex1, p, agents.ActionMonitor, 0)
			must(t, ex2, p, agents.ActionMonitor, 7)
			if got, err := who(b, addr, 2*time.Second); err != nil || got != "node1" {
				t.Fatalf("client -> %s: %q %v", addr, got, err)
			}
			if mac, _, _ := b.Client.Neighbour(vip); mac != n1.MAC {
				t.Fatalf("client's neighbour entry for %s: %q, want node1's %s", vip, mac, n1.MAC)
			}

			must(t, ex1, p, agents.ActionStop, 0)
			if hasAddr(t, n1, vip) {
				t.Fatal("VIP still on node1 after stop")
			}
			must(t, ex1, p, agents.ActionMonitor, 7)
			if got, err := who(b, addr, 300*time.Millisecond); err == nil {
				t.Fatalf("client still reaches %s after stop: %q", addr, got)
			}

			// Move: start on node2. Only a gratuitous ARP can change the
			// client's entry, since the client sends nothing meanwhile;
			// the client also captures the ARP frame itself.
			if mac, _, _ := b.Client.Neighbour(vip); mac != n1.MAC {
				t.Fatalf("client's neighbour entry for %s before the move: %q, want node1's %s", vip, mac, n1.MAC)
			}
			garp := captureGARP(t, b.Client, vip, n2.MAC, 5*time.Second)
			t0 := time.Now()
			must(t, ex2, p, agents.ActionStart, 0)
			var mac, state string
			for time.Since(t0) < 5*time.Second {
				if mac, state, _ = b.Client.Neighbour(vip); mac == n2.MAC {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if mac != n2.MAC {
				t.Fatalf("client's neighbour entry for %s is %q %s 5s after the start on node2, want node2's %s", vip, mac, state, n2.MAC)
			}
			seen := <-garp
			if seen.IsZero() {
				t.Fatalf("the client saw no gratuitous ARP for %s from node2's MAC", vip)
			}
			t.Logf("%s: GARP from node2 seen by the client %s after start began; neighbour entry %s %s",
				impl, seen.Sub(t0).Round(time.Millisecond), mac, state)
			if got, err := who(b, addr, 2*time.Second); err != nil || got != "node2" {
				t.Fatalf("client -> %s after the move: %q %v", addr, got, err)
			}
			must(t, ex2, p, agents.ActionStop, 0)
			if hasAddr(t, n2, vip) {
				t.Fatal("VIP still on node2 after stop")
			}
			if out := n1.Must(t, "ip", "-o", "addr"); strings.Contains(out, vip+"/") {
				t.Fatalf("VIP on node1 at the end: %s", out)
			}
		})
	}
}

// captureGARP listens for ARP frames on the client's eth0 and reports
// when the first one with sender address ip and sender MAC mac arrives
// (the zero time when none does within wait).
func captureGARP(t *testing.T, c *bed.Client, ip, mac string, wait time.Duration) <-chan time.Time {
	t.Helper()
	var conn *packet.Conn
	if err := c.Do(func() error {
		ifi, err := net.InterfaceByName(bed.IfName)
		if err != nil {
			return err
		}
		conn, err = packet.Listen(ifi, packet.Raw, 0x0806, nil)
		return err
	}); err != nil {
		t.Fatalf("ARP capture in the client: %v", err)
	}
	hw, _ := net.ParseMAC(mac)
	sender := net.ParseIP(ip).To4()
	out := make(chan time.Time, 1)
	go func() {
		defer conn.Close()
		buf := make([]byte, 1500)
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		for {
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				out <- time.Time{}
				return
			}
			// Ethernet (14) + ARP: sender MAC at 22..28, sender IP at 28..32.
			if k >= 42 && bytes.Equal(buf[22:28], hw) && bytes.Equal(buf[28:32], sender) {
				out <- time.Now()
				return
			}
		}
	}()
	return out
}
