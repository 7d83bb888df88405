package scheduler

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// cl builds test CIBs tersely: nodes start online members, fencing off,
// and resource history is written as Pacemaker's lrm_rsc_op would be.
type cl struct {
	c      *cib.CIB
	call   int64
	quorum bool
	now    time.Time
}

func cluster(nodes ...string) *cl {
	c := cib.New()
	c.Config.Properties = map[string]string{"stonith-enabled": "false"}
	x := &cl{c: c, quorum: true, now: t0, call: 10}
	for i, n := range nodes {
		c.Config.Nodes = append(c.Config.Nodes, cib.Node{ID: fmt.Sprint(i + 1), Name: n})
		c.Status.Nodes[n] = &cib.NodeStatus{Name: n, InCCM: true, Crmd: true, Join: "member", Expected: "member"}
	}
	return x
}

func (x *cl) prop(k, v string) *cl { x.c.Config.Properties[k] = v; return x }

func (x *cl) defaults(k, v string) *cl {
	if x.c.Config.RscDefaults == nil {
		x.c.Config.RscDefaults = map[string]string{}
	}
	x.c.Config.RscDefaults[k] = v
	return x
}

// fencing enables stonith and adds a fence_xvm device.
func (x *cl) fencing() *cl {
	x.prop("stonith-enabled", "true")
	x.c.Config.Resources = append(x.c.Config.Resources, cib.Resource{Primitive: &cib.Primitive{
		ID: "fence", Class: "stonith", Type: "fence_xvm"}})
	return x
}

func newPrim(id string, meta ...string) *cib.Primitive {
	p := &cib.Primitive{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
		Ops: []cib.Op{{Name: "monitor", Interval: "10s"}}}
	if len(meta) > 0 {
		p.Meta = map[string]string{}
		for i := 0; i+1 < len(meta); i += 2 {
			p.Meta[meta[i]] = meta[i+1]
		}
	}
	return p
}

func metaMap(meta []string) map[string]string {
	if len(meta) == 0 {
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(meta); i += 2 {
		m[meta[i]] = meta[i+1]
	}
	return m
}

func (x *cl) prim(id string, meta ...string) *cl {
	x.c.Config.Resources = append(x.c.Config.Resources, cib.Resource{Primitive: newPrim(id, meta...)})
	return x
}

func (x *cl) group(id string, members []string, meta ...string) *cl {
	g := &cib.Group{ID: id, Meta: metaMap(meta)}
	for _, m := range members {
		g.Members = append(g.Members, newPrim(m))
	}
	x.c.Config.Resources = append(x.c.Config.Resources, cib.Resource{Group: g})
	return x
}

func (x *cl) clone(id, child string, meta ...string) *cl {
	x.c.Config.Resources = append(x.c.Config.Resources, cib.Resource{Clone: &cib.Clone{
		ID: id, Meta: metaMap(meta), Primitive: newPrim(child)}})
	return x
}

func (x *cl) cloneGroup(id, gid string, members []string, meta ...string) *cl {
	g := &cib.Group{ID: gid}
	for _, m := range members {
		g.Members = append(g.Members, newPrim(m))
	}
	x.c.Config.Resources = append(x.c.Config.Resources, cib.Resource{Clone: &cib.Clone{
		ID: id, Meta: metaMap(meta), Group: g}})
	return x
}

// meta sets a meta attribute on any configured resource or member.
func (x *cl) meta(id, k, v string) *cl {
	set := func(m *map[string]string) {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
	}
	for _, r := range x.c.Config.Resources {
		switch {
		case r.Primitive != nil && r.Primitive.ID == id:
			set(&r.Primitive.Meta)
			return x
		case r.Group != nil && r.Group.ID == id:
			set(&r.Group.Meta)
			return x
		case r.Clone != nil && r.Clone.ID == id:
			set(&r.Clone.Meta)
			return x
		}
	}
	if p := x.c.Config.Primitive(id); p != nil {
		set(&p.Meta)
		return x
	}
	panic("no resource " + id)
}

func (x *cl) history(node, rsc string) *cib.ResourceHistory {
	ns := x.c.Status.Nodes[node]
	if ns == nil {
		panic("no status for " + node)
	}
	if ns.Resources == nil {
		ns.Resources = map[string]*cib.ResourceHistory{}
	}
	h := ns.Resources[rsc]
	if h == nil {
		// The history names the configured agent, as the executor
		// records it (Pacemaker restarts a resource whose agent changed).
		h = &cib.ResourceHistory{ID: rsc, Class: "ocf", Provider: "heartbeat", Type: "Dummy"}
		if p := x.c.Config.Primitive(rsc); p != nil {
			h.Class, h.Provider, h.Type = p.Class, p.Provider, p.Type
		}
		ns.Resources[rsc] = h
	}
	return h
}

// rec appends an operation result to a resource's history on a node.
func (x *cl) rec(node, rsc, op string, intervalMS int64, rc int, at time.Time) *cl {
	x.call++
	h := x.history(node, rsc)
	h.Ops = append(h.Ops, cib.OpRecord{ID: fmt.Sprintf("%s_%s_%d", rsc, op, intervalMS), Operation: op,
		IntervalMS: intervalMS, CallID: x.call, RC: rc, LastRun: at, LastRCChange: at})
	return x
}

// recExpect appends an operation result that was run expecting rc
// expected (a transition key's expected result).
func (x *cl) recExpect(node, rsc, op string, intervalMS int64, rc, expected int, at time.Time) *cl {
	x.rec(node, rsc, op, intervalMS, rc, at)
	h := x.history(node, rsc)
	h.Ops[len(h.Ops)-1].ExpectedRC = &expected
	return x
}

// running records a probe (not running), a start and, when the
// resource defines a 10s monitor (or is not configured), a good monitor.
func (x *cl) running(rsc, node string) *cl {
	at := x.now.Add(-time.Hour)
	x.rec(node, rsc, "monitor", 0, 7, at).rec(node, rsc, "start", 0, 0, at)
	p := x.c.Config.Primitive(rsc)
	if p == nil {
		return x.rec(node, rsc, "monitor", 10000, 0, at)
	}
	for _, o := range p.Ops {
		if o.Name == "monitor" && o.Interval == "10s" {
			return x.rec(node, rsc, "monitor", 10000, 0, at)
		}
	}
	return x
}

// probedStopped records a probe that found the resource stopped.
func (x *cl) probedStopped(rsc, node string) *cl {
	return x.rec(node, rsc, "monitor", 0, 7, x.now.Add(-time.Hour))
}

// monitorFailed records a recurring monitor that found it dead at t.
func (x *cl) monitorFailed(rsc, node string, at time.Time) *cl {
	return x.rec(node, rsc, "monitor", 10000, 7, at)
}

// failcount sets fail-count and last-failure attributes.
func (x *cl) failcount(rsc, node string, n string, at time.Time) *cl {
	ns := x.c.Status.Nodes[node]
	if ns.Attributes == nil {
		ns.Attributes = map[string]string{}
	}
	ns.Attributes[cib.FailCountAttr(rsc, "monitor", 10000)] = n
	ns.Attributes[cib.LastFailureAttr(rsc, "monitor", 10000)] = fmt.Sprint(at.Unix())
	return x
}

func (x *cl) nodeAttr(node, k, v string) *cl {
	n := x.c.Config.Node(node)
	if n.Attributes == nil {
		n.Attributes = map[string]string{}
	}
	n.Attributes[k] = v
	return x
}

func (x *cl) standby(node string) *cl { return x.nodeAttr(node, "standby", "on") }

// lost marks a node as gone from the membership while expected up.
func (x *cl) lost(node string) *cl {
	ns := x.c.Status.Nodes[node]
	ns.InCCM, ns.Crmd, ns.Join = false, false, "down"
	return x
}

// left marks a node as cleanly shut down.
func (x *cl) left(node string) *cl {
	ns := x.c.Status.Nodes[node]
	ns.InCCM, ns.Crmd, ns.Join, ns.Expected = false, false, "down", "down"
	return x
}

func (x *cl) unseen(node string) *cl { delete(x.c.Status.Nodes, node); return x }

func (x *cl) loc(id, rsc, node, score string) *cl {
	x.c.Config.Constraints.Locations = append(x.c.Config.Constraints.Locations,
		cib.Location{ID: id, Resource: rsc, Node: node, Score: score})
	return x
}

func (x *cl) rule(id, rsc, score, boolOp string, exprs ...cib.Expression) *cl {
	for i := range exprs {
		exprs[i].ID = fmt.Sprintf("%s-e%d", id, i)
	}
	x.c.Config.Constraints.Locations = append(x.c.Config.Constraints.Locations,
		cib.Location{ID: id, Resource: rsc, Rules: []cib.Rule{{ID: id + "-rule", Score: score, BooleanOp: boolOp, Expressions: exprs}}})
	return x
}

func (x *cl) coloc(id, rsc, with, score string) *cl {
	x.c.Config.Constraints.Colocations = append(x.c.Config.Constraints.Colocations,
		cib.Colocation{ID: id, Resource: rsc, WithResource: with, Score: score})
	return x
}

func (x *cl) order(id, first, then, kind string, sym bool) *cl {
	o := cib.Order{ID: id, First: first, Then: then, Kind: kind}
	if !sym {
		f := false
		o.Symmetrical = &f
	}
	x.c.Config.Constraints.Orders = append(x.c.Config.Constraints.Orders, o)
	return x
}

func (x *cl) noQuorum() *cl { x.quorum = false; return x }

func (x *cl) input() Input { return Input{CIB: x.c, Quorum: x.quorum, Now: x.now} }

func (x *cl) schedule(t *testing.T) *Transition {
	t.Helper()
	tr, err := Schedule(x.input())
	if err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	return tr
}

// actionsText renders actions compactly: "move vip node3->node1",
// "start B ->node2 (blocked)".
func actionsText(tr *Transition) []string {
	var out []string
	for _, a := range tr.Actions {
		s := fmt.Sprintf("%s %s %s->%s", a.Kind, a.Resource, a.From, a.To)
		if a.Blocked {
			s += " (blocked)"
		}
		out = append(out, s)
	}
	return out
}

func stepsText(tr *Transition) string {
	var out []string
	for _, s := range tr.Steps {
		out = append(out, s.String())
	}
	return strings.Join(out, " ")
}

// placementText renders placement sorted: "A=node1 B=stopped".
func placementText(tr *Transition) string {
	var out []string
	for _, k := range sortedKeys(tr.Placement) {
		out = append(out, k+"="+tr.Placement[k])
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
