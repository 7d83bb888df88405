package ipaddr2

import (
	"context"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"pacer/agents"
)

// Benchmarks run inside namespaces made for them (root only, like the
// tests). Figures: go test -run '^$' -bench . -benchtime 200x ./agents/ipaddr2

// BenchmarkAddrAdd is one netlink AddrAdd of a /32 on va0 (the delete is
// not timed).
func BenchmarkAddrAdd(b *testing.B) {
	bd := newBed(b)
	h, err := bd.agent.handle()
	if err != nil {
		b.Fatal(err)
	}
	link, err := h.LinkByName("va0")
	if err != nil {
		b.Fatal(err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("192.0.2.200").To4(), Mask: net.CIDRMask(32, 32)}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.AddrAdd(link, addr); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := h.AddrDel(link, addr); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkStart is the agent's whole start: parameters, findif, served
// check, AddrAdd, link up and the first GARP round (arp_count=1). The stop
// is not timed.
func BenchmarkStart(b *testing.B) {
	bd := newBed(b)
	ctx := context.Background()
	req := bd.req("arp_count", "1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := bd.agent.Start(ctx, req); !r.Succeeded() {
			b.Fatal(r)
		}
		b.StopTimer()
		if r := bd.agent.Stop(ctx, req); !r.Succeeded() {
			b.Fatal(r)
		}
		b.StartTimer()
	}
}

// BenchmarkStop is the agent's stop of a served address.
func BenchmarkStop(b *testing.B) {
	bd := newBed(b)
	ctx := context.Background()
	req := bd.req("arp_count", "0")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if r := bd.agent.Start(ctx, req); !r.Succeeded() {
			b.Fatal(r)
		}
		b.StartTimer()
		if r := bd.agent.Stop(ctx, req); !r.Succeeded() {
			b.Fatal(r)
		}
	}
}

// BenchmarkMonitor is a recurring monitor of a served address.
func BenchmarkMonitor(b *testing.B) {
	bd := newBed(b)
	ctx := context.Background()
	req := bd.req("arp_count", "0")
	if r := bd.agent.Start(ctx, req); !r.Succeeded() {
		b.Fatal(r)
	}
	req.Interval = 10 * time.Second
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := bd.agent.Monitor(ctx, req); !r.Succeeded() {
			b.Fatal(r)
		}
	}
}

// BenchmarkGARPRound sends one gratuitous ARP round (request + reply).
func BenchmarkGARPRound(b *testing.B) {
	bd := newBed(b)
	h, _ := bd.agent.handle()
	link, err := h.LinkByName("va0")
	if err != nil {
		b.Fatal(err)
	}
	s, err := bd.agent.newGARPSender(link, net.ParseIP(bd.vip))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.round(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatchRemovedVIP measures how long after a netlink AddrDel of
// the VIP (by someone else: a second netlink socket) the agent's Watch
// reports it. ns/op is the mean; p50 and p95 are reported too.
func BenchmarkWatchRemovedVIP(b *testing.B) {
	bd := newBed(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := bd.req("nic", "va0", "cidr_netmask", "24", "arp_count", "0")
	if r := bd.agent.Start(ctx, req); !r.Succeeded() {
		b.Fatal(r)
	}
	events, err := bd.agent.Watch(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	other, err := netlink.NewHandleAt(mustNS(b, bd.a.Path()))
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	link, _ := other.LinkByName("va0")
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(bd.vip).To4(), Mask: net.CIDRMask(24, 32)}}
	wait := func(want agents.Code) agents.Event {
		select {
		case ev := <-events:
			if ev.Code != want {
				b.Fatalf("event %+v, want %s", ev, want)
			}
			return ev
		case <-time.After(5 * time.Second):
			b.Fatal("no event within 5s")
		}
		return agents.Event{}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := other.AddrDel(link, addr); err != nil {
			b.Fatal(err)
		}
		ev := wait(agents.NotRunning)
		lat = append(lat, ev.At.Sub(t0))
		b.StopTimer()
		if err := other.AddrAdd(link, addr); err != nil {
			b.Fatal(err)
		}
		wait(agents.OK)
		b.StartTimer()
	}
	reportLatency(b, lat)
}

// reportLatency adds p50 and p95 (in µs) to the benchmark line.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
}

func mustNS(b *testing.B, path string) netnsHandle {
	h, err := openNS(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}
