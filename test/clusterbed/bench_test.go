package clusterbed

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"pacer/api"
)

// BenchmarkFence measures the fence round trip under a running 3-node
// cluster, through each device: an API request to a node (relayed to the
// DC) until the DC reports the target confirmed off and recorded, and
// the same for on. Run with -benchtime=20x for 20 cycles per device:
//
//	go test -run '^$' -bench Fence -benchtime=20x ./test/clusterbed
func BenchmarkFence(b *testing.B) {
	bed := Up(b, Options{})
	if err := bed.StartFenceHost(fenceHostPort); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dc, err := bed.WaitLeader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	admin := bed.Node(dc)
	target, err := bed.NotDC(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range fenceDevices(bed) {
		b.Run(d.id, func(b *testing.B) {
			pcsOK(b, admin, append([]string{"stonith", "create", d.id, d.agent}, d.params...)...)
			defer pcsOK(b, admin, "stonith", "delete", d.id)
			cl, err := admin.API()
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			var offs, ons, ready []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := cl.Fence(ctx, api.FenceRequest{Node: target.Name, Action: "off"}); err != nil {
					b.Fatalf("off: %v", err)
				}
				offs = append(offs, time.Since(t0))
				if left := target.Processes(); len(left) > 0 {
					b.Fatalf("%s still runs %v after a confirmed off", target.Name, left)
				}
				t1 := time.Now()
				if _, err := cl.Fence(ctx, api.FenceRequest{Node: target.Name, Action: "on"}); err != nil {
					b.Fatalf("on: %v", err)
				}
				ons = append(ons, time.Since(t1))
				if err := target.WaitReady(30 * time.Second); err != nil {
					b.Fatal(err)
				}
				ready = append(ready, time.Since(t1))
				// Let its pacerd rejoin before the next cycle, as a real
				// node would between two failures.
				b.StopTimer()
				if _, err := bed.WaitLeader(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			report(b, "off", offs)
			report(b, "on", ons)
			report(b, "on-ready", ready)
		})
	}
}

func report(b *testing.B, what string, d []time.Duration) {
	med, p95 := quantiles(d)
	b.ReportMetric(float64(med.Microseconds())/1000, what+"-median-ms")
	b.ReportMetric(float64(p95.Microseconds())/1000, what+"-p95-ms")
	b.Logf("%s: %s", what, Stats(d))
}

func quantiles(d []time.Duration) (median, p95 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[min(len(s)-1, (len(s)*95+99)/100-1)]
}

// Stats formats timings as "median M, p95 P, min A, max X (n=N)".
func Stats(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	med, p95 := quantiles(d)
	lo, hi := d[0], d[0]
	for _, x := range d {
		lo, hi = min(lo, x), max(hi, x)
	}
	r := func(x time.Duration) time.Duration { return x.Round(100 * time.Microsecond) }
	return fmt.Sprintf("median %v, p95 %v, min %v, max %v (n=%d)", r(med), r(p95), r(lo), r(hi), len(d))
}
