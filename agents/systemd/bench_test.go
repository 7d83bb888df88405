package systemd

import (
	"context"
	"sort"
	"syscall"
	"testing"
	"time"

	"pacer/agents"
)

// Benchmarks run against a systemd booted for them (root only).
// go test -run '^$' -bench . -benchtime 50x ./agents/systemd

func benchUnits(b *testing.B, fn func(b *testing.B, bd *bed, unit string)) {
	bd := newBed(b)
	units := []string{"pacer-sleep"}
	if bd.unit == "haproxy" {
		units = append(units, "haproxy")
	}
	for _, u := range units {
		b.Run(u, func(b *testing.B) { fn(b, bd, u) })
	}
}

// BenchmarkStart: the whole start (state check, drop-in, StartUnit, job
// result, state check); the stop is not timed.
func BenchmarkStart(b *testing.B) {
	benchUnits(b, func(b *testing.B, bd *bed, unit string) {
		a := bd.m.Agent(unit)
		ctx, req := context.Background(), agents.Request{Resource: "r", Timeout: 30 * time.Second}
		for i := 0; i < b.N; i++ {
			if r := a.Start(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
			b.StopTimer()
			if r := a.Stop(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
			b.StartTimer()
		}
	})
}

// BenchmarkStartKeptDropIn: start with Options.KeepDropIn, so neither the
// start nor the stop before it pays a daemon-reload.
func BenchmarkStartKeptDropIn(b *testing.B) {
	bd := newBed(b)
	m := New(Options{Dial: bd.node.DialBus, DropInDir: bd.node.RuntimeUnitDir(), KeepDropIn: true})
	defer m.Close()
	units := []string{"pacer-sleep"}
	if bd.unit == "haproxy" {
		units = append(units, "haproxy")
	}
	for _, u := range units {
		b.Run(u, func(b *testing.B) {
			a := m.Agent(u)
			ctx, req := context.Background(), agents.Request{Resource: "r", Timeout: 30 * time.Second}
			for i := 0; i < b.N; i++ {
				if r := a.Start(ctx, req); !r.Succeeded() {
					b.Fatal(r)
				}
				b.StopTimer()
				if r := a.Stop(ctx, req); !r.Succeeded() {
					b.Fatal(r)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkStop: the whole stop (drop-in removal + daemon-reload,
// StopUnit, job result, reset-failed).
func BenchmarkStop(b *testing.B) {
	benchUnits(b, func(b *testing.B, bd *bed, unit string) {
		a := bd.m.Agent(unit)
		ctx, req := context.Background(), agents.Request{Resource: "r", Timeout: 30 * time.Second}
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			if r := a.Start(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
			b.StartTimer()
			if r := a.Stop(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
		}
	})
}

// BenchmarkMonitor: one monitor of a running unit.
func BenchmarkMonitor(b *testing.B) {
	benchUnits(b, func(b *testing.B, bd *bed, unit string) {
		a := bd.m.Agent(unit)
		ctx, req := context.Background(), agents.Request{Resource: "r", Timeout: 30 * time.Second, Interval: time.Minute}
		if r := a.Start(ctx, req); !r.Succeeded() {
			b.Fatal(r)
		}
		defer a.Stop(ctx, req)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if r := a.Monitor(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
		}
	})
}

// BenchmarkWatchKilledUnit: from kill(MainPID, SIGKILL) to the Watch
// event. ns/op is the mean; p50 and p95 in µs.
func BenchmarkWatchKilledUnit(b *testing.B) {
	benchUnits(b, func(b *testing.B, bd *bed, unit string) {
		a := bd.m.Agent(unit).(*Agent)
		ctx, req := context.Background(), agents.Request{Resource: "r", Timeout: 30 * time.Second}
		lat := make([]time.Duration, 0, b.N)
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			if r := a.Start(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
			wctx, cancel := context.WithCancel(ctx)
			events, err := a.Watch(wctx, req)
			if err != nil {
				b.Fatal(err)
			}
			pid := bd.mainPID(b, a)
			b.StartTimer()
			t0 := time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				b.Fatal(err)
			}
			select {
			case ev := <-events:
				b.StopTimer()
				if ev.Code != agents.NotRunning {
					b.Fatalf("event %+v", ev)
				}
				lat = append(lat, ev.At.Sub(t0))
			case <-time.After(5 * time.Second):
				b.Fatal("no event within 5s")
			}
			cancel()
			for range events {
			}
			if r := a.Stop(ctx, req); !r.Succeeded() {
				b.Fatal(r)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
	})
}
