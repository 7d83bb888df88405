package ipaddr2

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"pacer/agents"
	"pacer/test/netns"
)

// bed is two namespaces joined by a veth pair: node "a" (va0,
// 192.0.2.1/24, where the agent works) and its neighbour "b" (vb0,
// 192.0.2.2/24). TEST-NET-1 addresses, inside namespaces the test made.
type bed struct {
	a, b         *netns.NS
	aMAC, bMAC   string
	agent        *Agent
	vip          string
	baseParams   map[string]string
	neighbourNIC string
}

func newBed(t testing.TB) *bed {
	t.Helper()
	a, b := netns.New(t), netns.New(t)
	aMAC, bMAC := netns.Veth(t, a, "va0", "", b, "vb0", "192.0.2.2/24")
	// A broadcast on the primary address, so findif has one to copy.
	a.Must(t, "ip", "addr", "add", "192.0.2.1/24", "brd", "+", "dev", "va0")
	ag := New(Options{NetNS: a.Path()})
	t.Cleanup(func() { _ = ag.Close() })
	return &bed{a: a, b: b, aMAC: aMAC, bMAC: bMAC, agent: ag, vip: "192.0.2.100",
		baseParams: map[string]string{"ip": "192.0.2.100"}, neighbourNIC: "vb0"}
}

func (bd *bed) req(extra ...string) agents.Request {
	p := map[string]string{}
	for k, v := range bd.baseParams {
		p[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return agents.Request{Resource: "vip", Params: p, Timeout: 20 * time.Second}
}

func (bd *bed) addrs(t testing.TB) string {
	return bd.a.Must(t, "ip", "-o", "-4", "addr", "show", "dev", "va0")
}

func must(t testing.TB, what string, r agents.Result, want agents.Code) {
	t.Helper()
	if r.Status != agents.StatusDone || r.Code != want {
		t.Fatalf("%s: got %s, want %s (output %q)", what, r, want, r.Output)
	}
}

func TestStartMonitorStop(t *testing.T) {
	bd := newBed(t)
	ctx := context.Background()
	req := bd.req("arp_count", "1")

	must(t, "probe", bd.agent.Monitor(ctx, req), agents.NotRunning)
	must(t, "validate", bd.agent.Validate(ctx, req), agents.OK)
	must(t, "start", bd.agent.Start(ctx, req), agents.OK)
	// nic, netmask and broadcast all came from the route and the primary
	// address, as findif finds them.
	if out := bd.addrs(t); !strings.Contains(out, "inet 192.0.2.100/24 brd 192.0.2.255 scope global secondary va0") {
		t.Fatalf("after start:\n%s", out)
	}
	req.Interval = 10 * time.Second
	must(t, "monitor", bd.agent.Monitor(ctx, req), agents.OK)
	bd.reachable(t, true)
	again := bd.agent.Start(ctx, req)
	must(t, "start again", again, agents.OK)
	if !strings.Contains(again.Output, "already on va0") {
		t.Errorf("second start output %q", again.Output)
	}
	must(t, "stop", bd.agent.Stop(ctx, req), agents.OK)
	if out := bd.addrs(t); strings.Contains(out, "192.0.2.100") {
		t.Fatalf("after stop:\n%s", out)
	}
	must(t, "stop again", bd.agent.Stop(ctx, req), agents.OK)
	must(t, "monitor after stop", bd.agent.Monitor(ctx, req), agents.NotRunning)
	bd.reachable(t, false)
}

// reachable checks whether the neighbour can open a TCP connection to a
// listener on the VIP in node a.
func (bd *bed) reachable(t *testing.T, want bool) {
	t.Helper()
	var ln net.Listener
	err := bd.a.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", "0.0.0.0:7777")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	var derr error
	_ = bd.b.Do(func() error {
		var c net.Conn
		c, derr = net.DialTimeout("tcp", bd.vip+":7777", 300*time.Millisecond)
		if derr == nil {
			c.Close()
		}
		return nil
	})
	if (derr == nil) != want {
		t.Fatalf("neighbour connecting to %s:7777: %v (want reachable=%v)", bd.vip, derr, want)
	}
}

func TestExplicitParameters(t *testing.T) {
	bd := newBed(t)
	ctx := context.Background()
	req := bd.req("ip", "192.0.2.101", "nic", "va0", "cidr_netmask", "32", "iflabel", "web", "arp_count", "0")
	must(t, "start", bd.agent.Start(ctx, req), agents.OK)
	// The broadcast comes from the covering route's source address even for
	// a /32, as findif takes it.
	if out := bd.addrs(t); !strings.Contains(out, "inet 192.0.2.101/32 brd 192.0.2.255 scope global va0:web") {
		t.Fatalf("after start:\n%s", out)
	}
	// An address outside every route works when nic and netmask are given.
	out := bd.agent.Start(ctx, bd.req("ip", "203.0.113.7", "nic", "va0", "cidr_netmask", "24", "broadcast", "+", "arp_count", "0"))
	must(t, "start off-subnet", out, agents.OK)
	if s := bd.addrs(t); !strings.Contains(s, "inet 203.0.113.7/24 brd 203.0.113.255") {
		t.Fatalf("off-subnet:\n%s", s)
	}
	must(t, "stop", bd.agent.Stop(ctx, req), agents.OK)

	// IPv6: added with nodad and preferred_lft 0, removed again.
	v6 := bd.req("ip", "2001:db8::100", "nic", "va0", "cidr_netmask", "64", "nodad", "true", "preferred_lft", "0")
	must(t, "start v6", bd.agent.Start(ctx, v6), agents.OK)
	if s := bd.a.Must(t, "ip", "-o", "-6", "addr", "show", "dev", "va0"); !strings.Contains(s, "inet6 2001:db8::100/64 scope global nodad deprecated") {
		t.Fatalf("v6 after start:\n%s", s)
	}
	must(t, "monitor v6", bd.agent.Monitor(ctx, v6), agents.OK)
	must(t, "stop v6", bd.agent.Stop(ctx, v6), agents.OK)
	if s := bd.a.Must(t, "ip", "-o", "-6", "addr", "show", "dev", "va0"); strings.Contains(s, "2001:db8::100") {
		t.Fatalf("v6 after stop:\n%s", s)
	}
}

func TestErrors(t *testing.T) {
	bd := newBed(t)
	ctx := context.Background()
	cases := []struct {
		what string
		r    agents.Result
		code agents.Code
		msg  string
	}{
		{"no such nic", bd.agent.Start(ctx, bd.req("nic", "nope0")), agents.ErrNotConfigured, "Invalid interface name [nope0]"},
		{"no route", bd.agent.Start(ctx, bd.req("ip", "203.0.113.9")), agents.ErrGeneric, "Unable to find nic or netmask."},
		{"probe no route", bd.agent.Monitor(ctx, bd.req("ip", "203.0.113.9")), agents.NotRunning, ""},
		{"monitor no route", bd.agent.Monitor(ctx, agents.Request{Params: map[string]string{"ip": "203.0.113.9"}, Interval: time.Second}), agents.ErrGeneric, ""},
		{"stop no nic", bd.agent.Stop(ctx, bd.req("nic", "nope0")), agents.OK, ""},
		{"stop without ip", bd.agent.Stop(ctx, agents.Request{}), agents.OK, ""},
		{"start without ip", bd.agent.Start(ctx, agents.Request{}), agents.ErrNotConfigured, "mandatory"},
		{"clone", bd.agent.Start(ctx, agents.Request{Params: map[string]string{"ip": "192.0.2.100"}, Meta: map[string]string{"clone-max": "3"}}), agents.ErrUnimplemented, "CLUSTERIP"},
	}
	for _, c := range cases {
		if c.r.Code != c.code || !strings.Contains(c.r.Reason, c.msg) {
			t.Errorf("%s: got %s, want %s with %q", c.what, c.r, c.code, c.msg)
		}
	}
}

// captured is one ARP frame seen by the neighbour.
type captured struct {
	at    time.Time
	frame []byte
}

// captureARP listens for ARP on the neighbour's interface (an AF_PACKET
// socket opened inside namespace b) until n frames are seen or the wait
// ends.
func captureARP(t *testing.T, ns *netns.NS, ifname string) (start func(n int, wait time.Duration) <-chan []captured) {
	t.Helper()
	var conn *packet.Conn
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		conn, err = packet.Listen(ifi, packet.Raw, etherTypeARP, nil)
		return err
	})
	if err != nil {
		t.Fatalf("capture socket in %s: %v", ns.Name, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return func(n int, wait time.Duration) <-chan []captured {
		out := make(chan []captured, 1)
		go func() {
			var got []captured
			deadline := time.Now().Add(wait)
			buf := make([]byte, 1500)
			for len(got) < n {
				_ = conn.SetReadDeadline(deadline)
				k, _, err := conn.ReadFrom(buf)
				if err != nil {
					break
				}
				got = append(got, captured{time.Now(), append([]byte(nil), buf[:k]...)})
			}
			out <- got
		}()
		return out
	}
}

func TestGratuitousARPOnTheWire(t *testing.T) {
	bd := newBed(t)
	capture := captureARP(t, bd.b, "vb0")
	// The neighbour believes the VIP is somewhere else (as after a move
	// from another node): the GARP must switch its entry to our MAC.
	bd.b.Must(t, "ip", "neigh", "replace", bd.vip, "lladdr", "02:00:00:00:00:99", "dev", "vb0", "nud", "stale")
	got := capture(6, 5*time.Second)

	req := bd.req("arp_count", "3", "arp_interval", "50", "arp_bg", "false")
	must(t, "start", bd.agent.Start(context.Background(), req), agents.OK)
	frames := <-got
	if len(frames) != 6 {
		t.Fatalf("neighbour saw %d ARP frames, want 6 (3 rounds of request + reply)", len(frames))
	}
	mac, _ := net.ParseMAC(bd.aMAC)
	vip := net.ParseIP(bd.vip).To4()
	for i, c := range frames {
		f := c.frame
		reply := i%2 == 1
		op := binary.BigEndian.Uint16(f[20:22])
		switch {
		case len(f) < FrameLen:
			t.Fatalf("frame %d: %d bytes", i, len(f))
		case !bytes.Equal(f[0:6], broadcastMAC) || !bytes.Equal(f[6:12], mac):
			t.Errorf("frame %d: Ethernet %x -> %x, want %s -> broadcast", i, f[6:12], f[0:6], mac)
		case binary.BigEndian.Uint16(f[12:14]) != etherTypeARP:
			t.Errorf("frame %d: ethertype %x", i, f[12:14])
		case (op == arpReply) != reply:
			t.Errorf("frame %d: op %d, want alternating request/reply", i, op)
		case !bytes.Equal(f[22:28], mac) || !bytes.Equal(f[28:32], vip) || !bytes.Equal(f[38:42], vip):
			t.Errorf("frame %d: sender %x/%v target %v, want %s/%s both VIP", i, f[22:28], net.IP(f[28:32]), net.IP(f[38:42]), mac, vip)
		case reply && !bytes.Equal(f[32:38], mac):
			t.Errorf("frame %d: reply target MAC %x", i, f[32:38])
		case !reply && !bytes.Equal(f[32:38], make([]byte, 6)):
			t.Errorf("frame %d: request target MAC %x, want zero", i, f[32:38])
		}
	}
	if gap := frames[2].at.Sub(frames[0].at); gap < 40*time.Millisecond {
		t.Errorf("rounds %s apart, want about arp_interval=50ms", gap)
	}
	if out := bd.b.Must(t, "ip", "neigh", "show", bd.vip, "dev", "vb0"); !strings.Contains(out, "lladdr "+bd.aMAC) {
		t.Errorf("neighbour entry did not switch to %s:\n%s", bd.aMAC, out)
	}
}

func TestWatchReportsRemoval(t *testing.T) {
	bd := newBed(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := bd.req("arp_count", "0")
	must(t, "start", bd.agent.Start(ctx, req), agents.OK)
	events, err := bd.agent.Watch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	next := func(what string) agents.Event {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("%s: watch channel closed", what)
			}
			return ev
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no event within 5s", what)
		}
		return agents.Event{}
	}
	t0 := time.Now()
	bd.a.Must(t, "ip", "addr", "del", "192.0.2.100/24", "dev", "va0")
	ev := next("removal")
	if ev.Code != agents.NotRunning || ev.Resource != "vip" || !strings.Contains(ev.Reason, "removed from va0") {
		t.Fatalf("event %+v", ev)
	}
	t.Logf("removal reported %s after `ip addr del` was started", ev.At.Sub(t0))
	bd.a.Must(t, "ip", "addr", "add", "192.0.2.100/24", "dev", "va0")
	if ev := next("return"); ev.Code != agents.OK {
		t.Fatalf("event %+v", ev)
	}
	// Our own stop is not a failure.
	must(t, "stop", bd.agent.Stop(ctx, req), agents.OK)
	select {
	case ev := <-events:
		t.Fatalf("own stop reported: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	for range events { // closes after cancel
	}
}

func TestWatchFindsAlreadyGone(t *testing.T) {
	bd := newBed(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := bd.agent.Watch(ctx, bd.req("nic", "va0", "cidr_netmask", "24"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Code != agents.NotRunning {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for a VIP missing when the watch started")
	}
}
