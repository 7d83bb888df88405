package bedtest

import (
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"pacer/agents"
	"pacer/crm/cib"
	"pacer/resources"
	"pacer/test/bed"
)

// Run the benchmarks as root with a fixed number of rounds, e.g.
//
//	go test ./test/bedtest -run '^$' -bench Ops -benchtime 50x
//	go test ./test/bedtest -run '^$' -bench Watch -benchtime 20x
//	go test ./test/bedtest -run '^$' -bench MonitorOverhead -benchtime 1x
//
// They report medians and 95th percentiles (ms) as extra metrics; ns/op
// is the mean of a whole round and says little. All run on node1 of one
// bed shared by the package's benchmarks.

// report adds p50 and p95 of samples, in milliseconds, as metrics.
func report(b *testing.B, name string, samples []time.Duration) {
	s := slices.Clone(samples)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(s, 50)), name+"_p50_ms")
	b.ReportMetric(ms(percentile(s, 95)), name+"_p95_ms")
}

// timed runs one operation, fails unless it returns rc, and returns how
// long the executor took (wall clock, as a caller sees it).
func timed(b *testing.B, ex *resources.Executor, p cib.Primitive, op string, rc int) time.Duration {
	t0 := time.Now()
	rec := run(b, ex, p, op, 30*time.Second)
	d := time.Since(t0)
	if rec.RC != rc || rec.OpStatus != 0 {
		b.Fatalf("%s %s: rc %d op_status %d, want %d: %s", op, p.ID, rec.RC, rec.OpStatus, rc, rec.Output)
	}
	return d
}

// BenchmarkOps: start, monitor and stop latency through the executor,
// per agent kind, on a bed node. One round = start + monitor + stop.
func BenchmarkOps(b *testing.B) {
	bd := sharedBed(b)
	n := bd.Nodes[0]
	kinds := []struct {
		name string
		prim cib.Primitive
		need func(testing.TB)
	}{
		{"ipaddr2-native", vipPrim("b-vip-n", bd.VIP(20), agents.ImplNative), nil},
		{"ipaddr2-script", vipPrim("b-vip-s", bd.VIP(21), agents.ImplScript),
			func(tb testing.TB) { requireScript(tb, "heartbeat", "IPaddr2") }},
		{"systemd-haproxy", haproxyPrim("b-web"), requireHaproxy},
		{"dummy-native", dummyPrim("b-dummy-n", agents.ImplNative), nil},
		{"dummy-script", dummyPrim("b-dummy-s", agents.ImplScript),
			func(tb testing.TB) { requireScript(tb, "heartbeat", "Dummy") }},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			if k.need != nil {
				k.need(b)
			}
			ex, _ := n.Executor(b, n.AgentConfig())
			var start, mon, stop []time.Duration
			for b.Loop() {
				start = append(start, timed(b, ex, k.prim, agents.ActionStart, 0))
				mon = append(mon, timed(b, ex, k.prim, agents.ActionMonitor, 0))
				stop = append(stop, timed(b, ex, k.prim, agents.ActionStop, 0))
			}
			report(b, "start", start)
			report(b, "monitor", mon)
			report(b, "stop", stop)
			b.ReportMetric(float64(len(start)), "rounds")
		})
	}
}

// BenchmarkWatch: how long after a failure the executor reports it
// through the agent's watch (an Event with source "watch" and rc 7),
// with the recurring monitor's interval at 60 s so that only the watch
// can see it in time. haproxy-kill: SIGKILL of haproxy's main process.
// vip-removed: the VIP deleted from eth0 behind the agent's back.
func BenchmarkWatch(b *testing.B) {
	bd := sharedBed(b)
	n := bd.Nodes[0]
	b.Run("haproxy-kill", func(b *testing.B) {
		requireHaproxy(b)
		ex, _ := n.Executor(b, n.AgentConfig())
		web := haproxyPrim("w-web")
		var lat []time.Duration
		for b.Loop() {
			b.StopTimer()
			must(b, ex, web, agents.ActionStart, 0)
			recur(b, ex, web)
			pid := mainPID(b, n)
			drain(ex)
			b.StartTimer()
			t0 := time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				b.Fatal(err)
			}
			ev := waitEvent(b, ex, web.ID, "watch", 10*time.Second)
			lat = append(lat, time.Since(t0))
			b.StopTimer()
			if ev.Record.RC != 7 {
				b.Fatalf("watch event rc %d: %s", ev.Record.RC, ev.Reason)
			}
			ex.CancelAll(web.ID)
			must(b, ex, web, agents.ActionStop, 0)
			b.StartTimer()
		}
		report(b, "detect", lat)
		b.ReportMetric(float64(len(lat)), "kills")
	})
	b.Run("vip-removed", func(b *testing.B) {
		ex, _ := n.Executor(b, n.AgentConfig())
		vip := vipPrim("w-vip", bd.VIP(22), agents.ImplNative)
		vip.Params["arp_count"] = "1"
		h := nodeNetlink(b, n)
		link, err := h.LinkByName(bed.IfName)
		if err != nil {
			b.Fatal(err)
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(bd.VIP(22)).To4(), Mask: net.CIDRMask(24, 32)}}
		var lat []time.Duration
		for b.Loop() {
			b.StopTimer()
			must(b, ex, vip, agents.ActionStart, 0)
			recur(b, ex, vip)
			drain(ex)
			b.StartTimer()
			t0 := time.Now()
			if err := h.AddrDel(link, addr); err != nil {
				b.Fatalf("remove the VIP: %v", err)
			}
			ev := waitEvent(b, ex, vip.ID, "watch", 10*time.Second)
			lat = append(lat, time.Since(t0))
			b.StopTimer()
			if ev.Record.RC != 7 {
				b.Fatalf("watch event rc %d: %s", ev.Record.RC, ev.Reason)
			}
			ex.CancelAll(vip.ID)
			must(b, ex, vip, agents.ActionStop, 0)
			b.StartTimer()
		}
		report(b, "detect", lat)
		b.ReportMetric(float64(len(lat)), "removals")
	})
}

// recur starts a 60 s recurring monitor (with the agent's watch) and
// checks that it found the resource running.
func recur(b *testing.B, ex *resources.Executor, p cib.Primitive) {
	b.Helper()
	rec, err := ex.Recur(context.Background(), resources.Action{Primitive: p, Op: agents.ActionMonitor,
		Interval: 60 * time.Second, Timeout: 20 * time.Second})
	if err != nil || rec.RC != 0 {
		b.Fatalf("recurring monitor of %s: rc %d %v: %s", p.ID, rec.RC, err, rec.Output)
	}
}

// nodeNetlink returns a netlink handle in the node's network namespace.
func nodeNetlink(b *testing.B, n *bed.Node) *netlink.Handle {
	b.Helper()
	ns, err := vnetns.GetFromPath(n.NetNS())
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Close)
	return h
}

// BenchmarkMonitorOverhead: 100 Dummy resources with 1 s recurring
// monitors on one node; the CPU the test process (the executor and the
// native agents) and its children (the scripts) use per second of wall
// time, in percent of one core, over a window of 20 s
// (PACER_BED_OVERHEAD_WINDOW overrides it). One measurement per run:
// use -benchtime 1x.
func BenchmarkMonitorOverhead(b *testing.B) {
	bd := sharedBed(b)
	n := bd.Nodes[0]
	window := 20 * time.Second
	if w, err := time.ParseDuration(os.Getenv("PACER_BED_OVERHEAD_WINDOW")); err == nil && w > 0 {
		window = w
	}
	for _, impl := range []string{agents.ImplNative, agents.ImplScript} {
		b.Run("dummy-"+impl, func(b *testing.B) {
			if impl == agents.ImplScript {
				requireScript(b, "heartbeat", "Dummy")
			}
			ex, _ := n.Executor(b, n.AgentConfig())
			var prims []cib.Primitive
			for i := range 100 {
				p := dummyPrim("m-"+impl+"-"+strconv.Itoa(i), impl)
				must(b, ex, p, agents.ActionStart, 0)
				rec, err := ex.Recur(context.Background(), resources.Action{Primitive: p, Op: agents.ActionMonitor,
					Interval: time.Second, Timeout: 20 * time.Second})
				if err != nil || rec.RC != 0 {
					b.Fatalf("recur %s: %+v %v", p.ID, rec, err)
				}
				prims = append(prims, p)
			}
			b.Cleanup(func() {
				for _, p := range prims {
					ex.CancelAll(p.ID)
					run(b, ex, p, agents.ActionStop, 20*time.Second)
				}
			})
			time.Sleep(2 * time.Second) // let the monitors spread out
			done := false
			for b.Loop() {
				if done {
					continue
				}
				done = true
				// Call ids count every operation: a probe before and after
				// the window tells how many monitors ran in it.
				probe := cib.Primitive{ID: "m-probe", Class: "ocf", Provider: "heartbeat", Type: "Dummy",
					Meta: map[string]string{agents.MetaImplementation: agents.ImplNative}}
				call0 := run(b, ex, probe, agents.ActionMonitor, 5*time.Second).CallID
				self0, kids0, t0 := cpu(syscall.RUSAGE_SELF), cpu(syscall.RUSAGE_CHILDREN), time.Now()
				time.Sleep(window)
				wall := time.Since(t0)
				self, kids := cpu(syscall.RUSAGE_SELF)-self0, cpu(syscall.RUSAGE_CHILDREN)-kids0
				calls := run(b, ex, probe, agents.ActionMonitor, 5*time.Second).CallID - call0 - 1
				b.ReportMetric(float64(calls)/wall.Seconds(), "monitors/s")
				b.ReportMetric(100*float64(self)/float64(wall), "self_cpu_%")
				b.ReportMetric(100*float64(kids)/float64(wall), "children_cpu_%")
				b.ReportMetric(100*float64(self+kids)/float64(wall), "total_cpu_%")
			}
			for _, p := range prims[:1] {
				if h := ex.History(p.ID); len(h) == 0 || h[len(h)-1].RC != 0 {
					b.Fatalf("%s: last monitor %+v", p.ID, h)
				}
			}
		})
	}
}

// cpu is user + system time of who (RUSAGE_SELF or RUSAGE_CHILDREN).
func cpu(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
