package pcmkcompat

import (
	"fmt"
	"runtime"
	"testing"

	"pacer/crm/scheduler"
)

// BenchmarkScheduleLarge times one transition of the Large cluster with
// the status a settled cluster has: a probe record for every resource on
// every node (with probes=false, only the records of where resources
// run). Building the CIB is not timed; the garbage collector's work on
// that input while the scheduler allocates is, as it would be on the DC.
//
// How the histories lie in memory matters as much as their number.
// "generated" keeps the generator's order (each resource's records on
// every node, one after another); "cloned" schedules a Clone of it,
// which is what the DC gets, since store.Next clones the CIB for every
// command: node by node, the order a node-major walk reads it in.
//
//	go test -run '^$' -bench ScheduleLarge -benchtime 20x ./test/pcmkcompat/
func BenchmarkScheduleLarge(b *testing.B) {
	for _, layout := range []string{"generated", "cloned"} {
		for _, probes := range []bool{true, false} {
			for _, nodes := range []int{8, 32} {
				for _, prims := range []int{100, 1000, 10000} {
					name := fmt.Sprintf("%s/probes=%t/prims=%d/nodes=%d", layout, probes, prims, nodes)
					b.Run(name, func(b *testing.B) {
						in := Large(prims, nodes, probes)
						if layout == "cloned" {
							in.CIB = in.CIB.Clone()
						}
						sin := scheduler.Input{CIB: in.CIB, Quorum: in.Quorum, Now: in.Now}
						// The previous size's input is garbage by now; collect
						// it so it does not count against this one.
						runtime.GC()
						b.ReportAllocs()
						b.ResetTimer()
						for b.Loop() {
							if _, err := scheduler.Schedule(sin); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		}
	}
}
