package scheduler

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"pacer/crm/cib"
)

// benchCIB builds a steady-state cluster of nPrims primitives on nNodes
// nodes: half the primitives in groups of five, the rest standalone with
// a location preference weaker than stickiness, every tenth colocated with the one before it,
// every tenth ordered after it, one node lost (and fenced), a few failed
// monitors, and every resource running somewhere.
func benchCIB(nPrims, nNodes int) Input {
	rng := rand.New(rand.NewSource(int64(nPrims*1000 + nNodes)))
	var names []string
	for i := 0; i < nNodes; i++ {
		names = append(names, fmt.Sprintf("node%02d", i+1))
	}
	x := cluster(names...).fencing().defaults("resource-stickiness", "100").defaults("migration-threshold", "3")
	x.running("fence", names[0])
	lost := names[nNodes-1]
	var standalone []string
	placed := 0
	for placed < nPrims {
		node := names[rng.Intn(nNodes)]
		if placed < nPrims/2 && nPrims-placed >= 5 {
			gid := fmt.Sprintf("g%d", placed)
			var members []string
			for j := 0; j < 5; j++ {
				members = append(members, fmt.Sprintf("r%d", placed+j))
			}
			x.group(gid, members)
			for _, m := range members {
				x.running(m, node)
			}
			if rng.Intn(4) == 0 {
				x.loc("l-"+gid, gid, names[rng.Intn(nNodes)], "50")
			}
			placed += 5
			continue
		}
		id := fmt.Sprintf("r%d", placed)
		x.prim(id).running(id, node)
		x.loc("l-"+id, id, names[rng.Intn(nNodes)], fmt.Sprint(rng.Intn(100)))
		if len(standalone) > 0 && placed%10 == 0 {
			prev := standalone[len(standalone)-1]
			x.coloc("c-"+id, id, prev, "INFINITY")
		}
		if len(standalone) > 0 && placed%10 == 5 {
			prev := standalone[len(standalone)-1]
			x.order("o-"+id, prev, id, "", true)
		}
		if placed%97 == 0 {
			x.monitorFailed(id, node, t0.Add(-time.Minute)).failcount(id, node, "1", t0.Add(-time.Minute))
		}
		standalone = append(standalone, id)
		placed++
	}
	x.lost(lost)
	return x.input()
}

func BenchmarkSchedule(b *testing.B) {
	for _, nodes := range []int{8, 32} {
		for _, prims := range []int{100, 1000, 10000} {
			in := benchCIB(prims, nodes)
			b.Run(fmt.Sprintf("prims=%d/nodes=%d", prims, nodes), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := Schedule(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestBenchCIBSane keeps the benchmark honest: the generated cluster
// schedules, fences the lost node and moves its resources.
func TestBenchCIBSane(t *testing.T) {
	tr, err := Schedule(benchCIB(100, 8))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Fencing) != 1 || len(tr.Actions) == 0 {
		t.Fatalf("fencing %v, %d actions", tr.Fencing, len(tr.Actions))
	}
	for id, n := range tr.Placement {
		if n == "node08" {
			t.Errorf("%s placed on the lost node", id)
		}
	}
	_ = cib.Infinity
}

func TestBenchShape(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	tr, _ := Schedule(benchCIB(10000, 32))
	t.Logf("actions %d steps %d graph %d fencing %v warnings %d", len(tr.Actions), len(tr.Steps), len(tr.Graph), tr.Fencing, len(tr.Warnings))
}
