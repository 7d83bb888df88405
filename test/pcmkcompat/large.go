package pcmkcompat

import (
	"fmt"
	"math/rand/v2"
	"time"

	"pacer/crm/cib"
)

// Large builds the benchmark cluster: nPrims primitives on nNodes nodes,
// the shape of crm/scheduler's BenchmarkSchedule. Half the primitives
// are in groups of five, the rest standalone with a location preference
// weaker than the stickiness; every tenth standalone primitive is
// colocated with the one before it and every tenth (offset by five) is
// ordered after it; a few have failed monitors; everything runs
// somewhere, and the last node has been lost, so the transition fences
// it and moves its resources. With probes, every primitive also has a
// probe result (not running) on every other node, as in a real cluster
// that has settled; without, Pacemaker schedules those probes itself.
func Large(nPrims, nNodes int, probes bool) *Input {
	r := rand.New(rand.NewPCG(uint64(nPrims)*1000+uint64(nNodes), 1))
	b := newBuilder(nNodes)
	c := b.c
	cfg := &c.Config
	names := make([]string, nNodes)
	for i := range names {
		names[i] = cfg.Nodes[i].Name
	}
	cfg.Properties["stonith-enabled"] = "true"
	cfg.RscDefaults = map[string]string{"resource-stickiness": "100", "migration-threshold": "3"}
	fence := prim("fence", "stonith", "fence_xvm")
	cfg.Resources = append(cfg.Resources, cib.Resource{Primitive: fence})
	b.running(names[0], fence)
	run := func(node string, p *cib.Primitive) {
		b.running(node, p)
		if !probes {
			return
		}
		for _, n := range names {
			if n != node {
				b.rec(n, p.ID, p, "monitor", 0, 7, genNow.Add(-2*time.Hour))
			}
		}
	}
	cs := &cfg.Constraints
	var standalone []string
	placed := 0
	for placed < nPrims {
		node := names[r.IntN(nNodes)]
		if placed < nPrims/2 && nPrims-placed >= 5 {
			g := &cib.Group{ID: fmt.Sprintf("g%d", placed)}
			for j := 0; j < 5; j++ {
				m := prim(fmt.Sprintf("r%d", placed+j))
				g.Members = append(g.Members, m)
				run(node, m)
			}
			cfg.Resources = append(cfg.Resources, cib.Resource{Group: g})
			if r.IntN(4) == 0 {
				cs.Locations = append(cs.Locations, cib.Location{ID: "l-" + g.ID, Resource: g.ID,
					Node: names[r.IntN(nNodes)], Score: "50"})
			}
			placed += 5
			continue
		}
		p := prim(fmt.Sprintf("r%d", placed))
		cfg.Resources = append(cfg.Resources, cib.Resource{Primitive: p})
		run(node, p)
		cs.Locations = append(cs.Locations, cib.Location{ID: "l-" + p.ID, Resource: p.ID,
			Node: names[r.IntN(nNodes)], Score: fmt.Sprint(r.IntN(100))})
		if n := len(standalone); n > 0 && placed%10 == 0 {
			cs.Colocations = append(cs.Colocations, cib.Colocation{ID: "c-" + p.ID, Resource: p.ID,
				WithResource: standalone[n-1], Score: "INFINITY"})
		}
		if n := len(standalone); n > 0 && placed%10 == 5 {
			cs.Orders = append(cs.Orders, cib.Order{ID: "o-" + p.ID, First: standalone[n-1], Then: p.ID})
		}
		if placed%97 == 0 {
			b.monitorFailed(node, p, genNow.Add(-time.Minute))
			b.failcount(node, p.ID, 1, genNow.Add(-time.Minute))
		}
		standalone = append(standalone, p.ID)
		placed++
	}
	lost := c.Status.Nodes[names[nNodes-1]]
	lost.InCCM, lost.Crmd, lost.Join = false, false, "down"
	return &Input{Name: fmt.Sprintf("large-%d-%d", nPrims, nNodes), CIB: c, Quorum: true, Now: genNow}
}
