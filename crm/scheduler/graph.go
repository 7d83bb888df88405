package scheduler

import (
	"container/heap"
	"sort"

	"pacer/crm/cib"
)

// executable reports whether an action is sent to a node: fencing, and
// required, runnable, real stops and starts.
func executable(a *action) bool {
	switch a.kind {
	case actFence:
		return true
	case actStart, actStop:
		return a.required && a.runnable && !a.pseudo && !a.phantom && a.rsc.managed
	}
	return false
}

// buildGraph keeps the executable actions, adds a recurring monitor after
// each start, and orders them: an edge of any relation between two
// executable actions is kept, and edges through pseudo actions (group and
// clone milestones, stops implied by fencing) are contracted so that
// "fence node3, then start A elsewhere" survives without the pseudo stop.
// Steps is a topological order that runs fencing first, then stops, then
// starts whenever the edges allow, with ties broken by resource order
// (stops in reverse) so that the order is deterministic.
func (s *scheduler) buildGraph() {
	type gnode struct {
		a       *action
		ivMS    int64 // monitors
		preds   []int
		succs   []int
		pending int
		key     [3]int64
		id      int
	}
	fenceRank := map[string]int64{}
	for i, name := range s.tr.Fencing {
		fenceRank[name] = int64(i)
	}
	gidx := make([]int, len(s.actions)) // action id -> index in all, or -1
	var all []gnode
	for _, a := range s.actions {
		gidx[a.id] = -1
		if !executable(a) {
			continue
		}
		g := gnode{a: a}
		switch a.kind {
		case actFence:
			g.key = [3]int64{0, fenceRank[a.node.name], 0}
		case actStop:
			g.key = [3]int64{1, -int64(a.rsc.pos), int64(a.node.idx)}
		case actStart:
			g.key = [3]int64{2, int64(a.rsc.pos), 0}
		}
		gidx[a.id] = len(all)
		all = append(all, g)
	}
	// Executable predecessors of each action, looking through pseudo ones.
	memo := make([][]int, len(s.actions))
	state := make([]uint8, len(s.actions)) // 0 new, 1 in progress, 2 done
	var preds func(a *action) []int
	preds = func(a *action) []int {
		if state[a.id] != 0 {
			return memo[a.id]
		}
		state[a.id] = 1
		var out []int
		for _, r := range a.in {
			f := r.first
			switch {
			case gidx[f.id] >= 0:
				out = append(out, gidx[f.id])
			case f.pseudo && (f.kind != actStop || f.node.fence):
				out = append(out, preds(f)...)
			}
		}
		memo[a.id], state[a.id] = out, 2
		return out
	}
	mark := make([]int, len(all))
	for i := range all {
		for _, p := range preds(all[i].a) {
			if p == i || mark[p] == i+1 {
				continue
			}
			mark[p] = i + 1
			all[i].preds = append(all[i].preds, p)
			all[p].succs = append(all[p].succs, i)
		}
	}
	// Recurring monitors after each start.
	for i, n := 0, len(all); i < n; i++ {
		a := all[i].a
		if a.kind != actStart || a.rsc.prim == nil {
			continue
		}
		for _, op := range a.rsc.prim.Ops {
			if op.Name != "monitor" || op.Interval == "" || op.Role == "Stopped" {
				continue
			}
			d, err := cib.ParseDuration(op.Interval)
			if err != nil || d <= 0 {
				continue
			}
			all[i].succs = append(all[i].succs, len(all))
			all = append(all, gnode{a: a, ivMS: d.Milliseconds(), preds: []int{i},
				key: [3]int64{3, int64(a.rsc.pos), d.Milliseconds()}})
		}
	}
	// Kahn's algorithm with a priority queue; a cycle (contradictory
	// orders) is broken at its lowest-keyed action, with a warning.
	q := &gheap{less: func(a, b int) bool { return lessKey(all[a].key, all[b].key) }}
	for i := range all {
		all[i].pending = len(all[i].preds)
		if all[i].pending == 0 {
			q.items = append(q.items, i)
		}
	}
	heap.Init(q)
	placed := 0
	done := make([]bool, len(all))
	for placed < len(all) {
		if q.Len() == 0 {
			best := -1
			for i := range all {
				if !done[i] && (best < 0 || lessKey(all[i].key, all[best].key)) {
					best = i
				}
			}
			s.warnf("ordering loop around %s; breaking it there", all[best].a.label())
			heap.Push(q, best)
		}
		i := heap.Pop(q).(int)
		if done[i] {
			continue
		}
		done[i] = true
		g := &all[i]
		g.id = placed
		placed++
		ga := GraphAction{ID: g.id, Node: g.a.node.name}
		switch {
		case g.ivMS > 0:
			ga.Kind, ga.Resource, ga.IntervalMS = StepMonitor, g.a.rsc.id, g.ivMS
		case g.a.kind == actFence:
			ga.Kind = StepFence
		case g.a.kind == actStop:
			ga.Kind, ga.Resource = StepStop, g.a.rsc.id
		default:
			ga.Kind, ga.Resource = StepStart, g.a.rsc.id
		}
		for _, p := range g.preds {
			if done[p] {
				ga.After = append(ga.After, all[p].id)
			}
		}
		sort.Ints(ga.After)
		s.tr.Graph = append(s.tr.Graph, ga)
		if ga.Kind != StepMonitor {
			s.tr.Steps = append(s.tr.Steps, Step{Kind: ga.Kind, Resource: ga.Resource, Node: ga.Node})
		}
		for _, sc := range g.succs {
			all[sc].pending--
			if all[sc].pending == 0 && !done[sc] {
				heap.Push(q, sc)
			}
		}
	}
}

func lessKey(a, b [3]int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// gheap is a min-heap of indices ordered by less.
type gheap struct {
	items []int
	less  func(a, b int) bool
}

func (h *gheap) Len() int           { return len(h.items) }
func (h *gheap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *gheap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *gheap) Push(x any)         { h.items = append(h.items, x.(int)) }
func (h *gheap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
