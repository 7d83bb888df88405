package membership

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkDetectCrash measures, with the lan-fast profile on loopback, the
// time from a node's crash (Shutdown without Leave) to EventDown on the
// survivors of a 3-node cluster. Times come from the events' At stamps, so
// polling does not add to them.
//
//	go test -run x -bench DetectCrash -benchtime 5x ./membership/
//
// ms/op: until every survivor saw the crash (mean); first-ms/op: the first
// survivor; max-ms: the worst run; suspect-ms/op: first EventSuspect.
func BenchmarkDetectCrash(b *testing.B) {
	var all, first, suspect []float64
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for range b.N {
		nodes := startCluster(b, 3)
		// Let the probe rounds run a while, and land the crash at a random
		// point of the probe schedule (one full round is 2 peers × the probe interval),
		// as a real crash would; a fixed delay measures one phase only.
		time.Sleep(time.Second + rand.N(600*time.Millisecond))

		crashed, survivors := nodes[2], nodes[:2]
		crash := time.Now()
		if err := crashed.Shutdown(); err != nil {
			b.Fatal(err)
		}
		var downs []time.Duration
		sus := time.Duration(-1)
		for _, n := range survivors {
			down := n.waitEvent(b, EventDown, crashed.name)
			downs = append(downs, down.At.Sub(crash))
			for _, ev := range n.events() {
				if ev.Type == EventSuspect && ev.Member.Name == crashed.name {
					if d := ev.At.Sub(crash); sus < 0 || d < sus {
						sus = d
					}
				}
			}
		}
		for _, n := range survivors {
			n.Shutdown()
		}
		all = append(all, ms(slices.Max(downs)))
		first = append(first, ms(slices.Min(downs)))
		if sus >= 0 {
			suspect = append(suspect, ms(sus))
		}
		b.Logf("run %d: suspect %.0f ms, first down %.0f ms, all down %.0f ms",
			len(all), ms(sus), first[len(first)-1], all[len(all)-1])
	}
	b.ReportMetric(0, "ns/op") // the setup dominates wall time; ms/op is the figure
	b.ReportMetric(mean(all), "ms/op")
	b.ReportMetric(mean(first), "first-ms/op")
	b.ReportMetric(slices.Max(all), "max-ms")
	if len(suspect) > 0 {
		b.ReportMetric(mean(suspect), "suspect-ms/op")
	}
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
