package pcmkcompat

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"pacer/crm/cib"
)

// genNow is the "now" of generated scenarios.
var genNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// builder writes CIBs with status the way the executor records them:
// probes, starts and monitors with increasing call ids.
type builder struct {
	c    *cib.CIB
	call int64
}

func newBuilder(nodes int) *builder {
	c := cib.New()
	c.Config.Properties = map[string]string{"stonith-enabled": "false"}
	b := &builder{c: c, call: 10}
	for i := 1; i <= nodes; i++ {
		name := "node" + strconv.Itoa(i)
		c.Config.Nodes = append(c.Config.Nodes, cib.Node{ID: strconv.Itoa(i), Name: name})
		c.Status.Nodes[name] = &cib.NodeStatus{Name: name, InCCM: true, Crmd: true, Join: "member", Expected: "member"}
	}
	return b
}

func prim(id string, class ...string) *cib.Primitive {
	p := &cib.Primitive{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
		Ops: []cib.Op{{ID: id + "-monitor-10s", Name: "monitor", Interval: "10s"}}}
	if len(class) == 2 {
		p.Class, p.Provider, p.Type, p.Ops = class[0], "", class[1], nil
	}
	return p
}

func (b *builder) rec(node, rsc string, p *cib.Primitive, op string, intervalMS int64, rc int, at time.Time) {
	ns := b.c.Status.Nodes[node]
	if ns.Resources == nil {
		ns.Resources = map[string]*cib.ResourceHistory{}
	}
	h := ns.Resources[rsc]
	if h == nil {
		h = &cib.ResourceHistory{ID: rsc, Class: p.Class, Provider: p.Provider, Type: p.Type}
		ns.Resources[rsc] = h
	}
	b.call++
	h.Ops = append(h.Ops, cib.OpRecord{ID: fmt.Sprintf("%s_%s_%d", rsc, op, intervalMS), Operation: op,
		IntervalMS: intervalMS, CallID: b.call, RC: rc, LastRun: at, LastRCChange: at})
}

// running records a probe, a start and (when p has one) a monitor.
func (b *builder) running(node string, p *cib.Primitive) {
	at := genNow.Add(-time.Hour)
	b.rec(node, p.ID, p, "monitor", 0, 7, at)
	b.rec(node, p.ID, p, "start", 0, 0, at)
	if len(p.Ops) > 0 {
		b.rec(node, p.ID, p, "monitor", 10000, 0, at)
	}
}

func (b *builder) monitorFailed(node string, p *cib.Primitive, at time.Time) {
	b.rec(node, p.ID, p, "monitor", 10000, 7, at)
}

func (b *builder) failcount(node, rsc string, n int, at time.Time) {
	ns := b.c.Status.Nodes[node]
	if ns.Attributes == nil {
		ns.Attributes = map[string]string{}
	}
	ns.Attributes[cib.FailCountAttr(rsc, "monitor", 10000)] = strconv.Itoa(n)
	ns.Attributes[cib.LastFailureAttr(rsc, "monitor", 10000)] = strconv.FormatInt(at.Unix(), 10)
}

func setMeta(p *map[string]string, k, v string) {
	if *p == nil {
		*p = map[string]string{}
	}
	(*p)[k] = v
}

// Random builds a small scenario from the subset, the same for the same
// seed: 2–4 nodes in various states, primitives, groups and clones with
// meta attributes, location (by node and by rule), colocation and order
// constraints, running resources, failed monitors and fail counts,
// fencing on or off, with or without quorum.
func Random(seed uint64) *Input {
	r := rand.New(rand.NewPCG(seed, 0x70616365))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	chance := func(p float64) bool { return r.Float64() < p }
	nn := 2 + r.IntN(3)
	b := newBuilder(nn)
	c := b.c
	cfg := &c.Config
	nodes := make([]string, nn)
	for i := range nodes {
		nodes[i] = cfg.Nodes[i].Name
		cfg.Nodes[i].Attributes = map[string]string{"site": pick("a", "b"), "ram": pick("8", "16", "32")}
		if chance(0.1) {
			cfg.Nodes[i].Attributes["standby"] = "on"
		}
	}
	in := &Input{Name: fmt.Sprintf("random-%d", seed), CIB: c, Quorum: true, Now: genNow}
	stonith := chance(0.5)
	var fence *cib.Primitive
	if stonith {
		cfg.Properties["stonith-enabled"] = "true"
		fence = prim("fence", "stonith", "fence_xvm")
		cfg.Resources = append(cfg.Resources, cib.Resource{Primitive: fence})
	}
	if chance(0.15) {
		in.Quorum = false
		cfg.Properties["no-quorum-policy"] = pick("stop", "freeze", "ignore")
	}
	if chance(0.15) {
		cfg.Properties["symmetric-cluster"] = "false"
	}
	if chance(0.5) {
		cfg.RscDefaults = map[string]string{"resource-stickiness": pick("0", "50", "100", "200")}
	}
	// Node states: node1 stays an online member; others may be lost,
	// have left, or (with fencing) never have been seen.
	for _, n := range nodes[1:] {
		st := c.Status.Nodes[n]
		switch x := r.Float64(); {
		case x < 0.12:
			st.InCCM, st.Crmd, st.Join = false, false, "down"
		case x < 0.22:
			st.InCCM, st.Crmd, st.Join, st.Expected = false, false, "down", "down"
		case x < 0.27 && stonith:
			delete(c.Status.Nodes, n)
		}
	}
	seen := func(n string) bool { return c.Status.Nodes[n] != nil }
	var ids []string // constraint targets, in creation order
	var prims []*cib.Primitive
	meta := func(m *map[string]string) {
		if chance(0.12) {
			setMeta(m, "target-role", "Stopped")
		}
		if chance(0.2) {
			setMeta(m, "resource-stickiness", pick("50", "100", "300"))
		}
		if chance(0.2) {
			setMeta(m, "migration-threshold", pick("1", "2", "3"))
		}
		if chance(0.08) {
			setMeta(m, "priority", pick("5", "10"))
		}
	}
	k := 1 + r.IntN(6)
	for i := 0; i < k; i++ {
		switch x := r.Float64(); {
		case x < 0.6:
			p := prim(fmt.Sprintf("r%d", i))
			meta(&p.Meta)
			if chance(0.04) {
				setMeta(&p.Meta, "is-managed", "false")
			}
			cfg.Resources = append(cfg.Resources, cib.Resource{Primitive: p})
			ids = append(ids, p.ID)
			prims = append(prims, p)
		case x < 0.85:
			g := &cib.Group{ID: fmt.Sprintf("g%d", i)}
			for j := 0; j < 2+r.IntN(2); j++ {
				g.Members = append(g.Members, prim(fmt.Sprintf("g%dm%d", i, j)))
			}
			meta(&g.Meta)
			cfg.Resources = append(cfg.Resources, cib.Resource{Group: g})
			ids = append(ids, g.ID)
			prims = append(prims, g.Members...)
		default:
			cl := &cib.Clone{ID: fmt.Sprintf("c%d", i), Primitive: prim(fmt.Sprintf("cp%d", i))}
			if chance(0.4) {
				setMeta(&cl.Meta, "clone-max", strconv.Itoa(1+r.IntN(nn)))
			}
			cfg.Resources = append(cfg.Resources, cib.Resource{Clone: cl})
			ids = append(ids, cl.ID)
			for _, n := range nodes {
				if seen(n) && chance(0.5) {
					b.running(n, cl.Primitive)
				}
			}
		}
	}
	if fence != nil {
		b.running("node1", fence)
	}
	// Status: where primitives run now, failures and fail counts. A
	// group's members run together on one node.
	for _, res := range cfg.Resources {
		var members []*cib.Primitive
		switch {
		case res.Primitive != nil && res.Primitive != fence:
			members = []*cib.Primitive{res.Primitive}
		case res.Group != nil:
			members = res.Group.Members
		default:
			continue
		}
		if !chance(0.6) {
			continue
		}
		n := nodes[r.IntN(nn)]
		if !seen(n) {
			continue
		}
		upto := len(members)
		if len(members) > 1 && chance(0.2) {
			upto = 1 + r.IntN(len(members))
		}
		for _, p := range members[:upto] {
			b.running(n, p)
			if chance(0.1) {
				b.monitorFailed(n, p, genNow.Add(-time.Minute))
			}
		}
	}
	for _, p := range prims {
		if n := nodes[r.IntN(nn)]; chance(0.15) && seen(n) {
			b.failcount(n, p.ID, 1+r.IntN(3), genNow.Add(-time.Minute))
		}
	}
	scores := []string{"-INFINITY", "-100", "50", "100", "200", "INFINITY"}
	cs := &cfg.Constraints
	for i := 0; i < r.IntN(4) && len(ids) > 0; i++ {
		l := cib.Location{ID: fmt.Sprintf("loc%d", i), Resource: ids[r.IntN(len(ids))]}
		if chance(0.6) {
			l.Node, l.Score = nodes[r.IntN(nn)], pick(scores...)
		} else {
			op := pick("eq", "ne", "gt", "lt", "defined", "not_defined")
			e := cib.Expression{ID: l.ID + "-e", Attribute: "site", Operation: op, Value: "a"}
			switch op {
			case "gt", "lt":
				e.Attribute, e.Value = "ram", pick("8", "16")
			case "defined", "not_defined":
				e.Attribute, e.Value = pick("site", "rack"), ""
			}
			l.Rules = []cib.Rule{{ID: l.ID + "-rule", Score: pick(scores...), Expressions: []cib.Expression{e}}}
		}
		cs.Locations = append(cs.Locations, l)
	}
	if len(ids) > 1 {
		for i := 0; i < r.IntN(3); i++ {
			// Later resources depend on earlier ones: no cycles.
			a, w := 1+r.IntN(len(ids)-1), 0
			w = r.IntN(a)
			cs.Colocations = append(cs.Colocations, cib.Colocation{ID: fmt.Sprintf("col%d", i),
				Resource: ids[a], WithResource: ids[w], Score: pick("INFINITY", "INFINITY", "-INFINITY", "50", "-50")})
		}
		for i := 0; i < r.IntN(3); i++ {
			a := 1 + r.IntN(len(ids)-1)
			o := cib.Order{ID: fmt.Sprintf("ord%d", i), First: ids[r.IntN(a)], Then: ids[a], Kind: pick("", "Mandatory", "Optional")}
			if chance(0.3) {
				f := false
				o.Symmetrical = &f
			}
			cs.Orders = append(cs.Orders, o)
		}
	}
	return in
}
