package scheduler

import (
	"fmt"
	"math"

	"pacer/crm/cib"
)

// scoreTable is a resource's allowed-node table: one score per node
// (indexed by node.idx). scoreAbsent marks a node that is not in the
// table at all, which is how an opt-in (symmetric-cluster=false) cluster
// keeps a resource off nodes no constraint allowed.
type scoreTable []cib.Score

const (
	// scoreAbsent: the node is not allowed at all (not in the table).
	scoreAbsent cib.Score = math.MinInt64
	// scoreUnusable is Pacemaker's INFINITY_HACK: while merging clone
	// preferences a node that would turn negative is marked unusable and
	// skipped by later merges, then reset to 1.
	scoreUnusable cib.Score = -100 * cib.Infinity
)

func (t scoreTable) clone() scoreTable {
	c := make(scoreTable, len(t))
	copy(c, t)
	return c
}

// add adds v to node i, inserting the node (at 0) when absent, as
// resource_node_score does.
func (t scoreTable) add(i int, v cib.Score) {
	if t[i] == scoreAbsent {
		t[i] = 0
	}
	t[i] = t[i].Add(v)
}

// anyAvailable is pcmk__any_node_available: some node in the table can
// run resources and has a non-negative score.
func (s *scheduler) anyAvailable(t scoreTable) bool {
	for i, sc := range t {
		if sc != scoreAbsent && sc >= 0 && s.nodes[i].available() {
			return true
		}
	}
	return false
}

// effective is the score node i counts with when nodes are compared:
// nodes that cannot run resources count as -INFINITY.
func (s *scheduler) effective(t scoreTable, i int) cib.Score {
	if t[i] == scoreAbsent || !s.nodes[i].available() {
		return cib.MinusInfinity
	}
	return t[i]
}

// applyNodeCriteria is Pacemaker's apply_node_criteria plus the score
// parts of unpacking: every resource starts with 0 on every node
// (symmetric cluster) or on none (opt-in), then location constraints,
// failures found in status, resource stickiness, the INFINITY that pins
// an unmanaged resource where it runs, and migration-threshold bans are
// added. Addition saturates, so -INFINITY from any source wins.
func (s *scheduler) applyNodeCriteria() {
	fill := scoreAbsent
	if s.opt.symmetric {
		fill = 0
	}
	for _, top := range s.tops {
		s.initTables(top, fill)
	}
	s.applyLocations()
	for _, b := range s.bans {
		if b.node == nil {
			s.resourceLocationAll(b.rsc, b.score, b.text)
		} else {
			s.resourceLocation(b.rsc, b.node, b.score, b.text)
		}
	}
	for _, r := range s.prims {
		s.applyStickiness(r)
		if !r.managed {
			for _, n := range r.active {
				s.resourceLocation(r, n, cib.Infinity, fmt.Sprintf("%s is unmanaged and stays where it runs", r.id))
			}
		}
	}
	s.applyFailThresholds()
}

func (s *scheduler) initTables(r *resource, fill cib.Score) {
	r.allowed = s.tables.table(fill)
	if r.kind == kClone {
		r.counts = make([]int, len(s.nodes))
	}
	for _, c := range r.children {
		s.initTables(c, fill)
	}
}

// resourceLocation is Pacemaker's resource_location for one node: the
// score goes to the resource and every descendant alike.
func (s *scheduler) resourceLocation(r *resource, n *node, v cib.Score, text string) {
	if n.idx >= len(r.allowed) {
		// An orphan (active but no longer configured) has no score
		// table: it is only ever stopped, so a ban changes nothing.
		return
	}
	r.allowed.add(n.idx, v)
	if r.isPrimitive() && text != "" {
		r.reasons = append(r.reasons, Reason{Node: n.name, Score: v, Text: text})
	}
	for _, c := range r.children {
		s.resourceLocation(c, n, v, text)
	}
}

// resourceLocationAll applies a score on every node.
func (s *scheduler) resourceLocationAll(r *resource, v cib.Score, text string) {
	for i := range r.allowed {
		r.allowed.add(i, v)
	}
	if r.isPrimitive() && text != "" {
		r.reasons = append(r.reasons, Reason{Score: v, Text: text})
	}
	for _, c := range r.children {
		s.resourceLocationAll(c, v, text)
	}
}

// applyStickiness adds resource-stickiness on the node a managed
// primitive runs on now. In an opt-in cluster it is added only where the
// resource is still explicitly allowed, so stickiness alone never keeps a
// resource on a node no constraint enables any more.
func (s *scheduler) applyStickiness(r *resource) {
	if !r.managed || r.stickiness < 1 || len(r.active) != 1 {
		return
	}
	n := r.active[0]
	if !s.opt.symmetric && r.allowed[n.idx] == scoreAbsent {
		r.reasons = append(r.reasons, Reason{Node: n.name,
			Text: fmt.Sprintf("stickiness ignored: %s is not explicitly allowed (symmetric-cluster=false)", n.name)})
		return
	}
	s.resourceLocation(r, n, r.stickiness,
		"resource-stickiness "+r.stickiness.String()+": it runs on "+n.name+" now")
}

// applyFailThresholds bans a resource from every node where its fail
// count has reached migration-threshold (check_failure_threshold). An
// anonymous clone instance bans the whole clone there; a group member
// bans only itself, and the group follows because its members are
// colocated (see colocation.go).
func (s *scheduler) applyFailThresholds() {
	// Index only the resources that have a fail count somewhere: a
	// map of every primitive would cost more than the check itself.
	byBase := map[string][]*resource{}
	for _, fcs := range s.failCounts {
		for base := range fcs {
			byBase[base] = nil
		}
	}
	if len(byBase) == 0 {
		return
	}
	for _, r := range s.prims {
		if rs, ok := byBase[r.base]; ok {
			byBase[r.base] = append(rs, r)
		}
	}
	for _, n := range s.nodes {
		if s.failCounts[n.idx] == nil {
			continue
		}
		done := map[*resource]bool{}
		for _, base := range sortedKeys(s.failCounts[n.idx]) {
			for _, r := range byBase[base] {
				s.checkThreshold(r, n, done)
			}
		}
	}
}

func (s *scheduler) checkThreshold(r *resource, n *node, done map[*resource]bool) {
	if r.ignoreFailure || r.threshold == 0 {
		return
	}
	fc, expired := s.failCount(r, n)
	if expired {
		r.reasons = append(r.reasons, Reason{Node: n.name,
			Text: fmt.Sprintf("fail-count on %s expired (failure-timeout %s)", n.name, r.failureTimeout)})
	}
	if fc <= 0 || int64(fc) < r.threshold {
		if fc > 0 {
			r.reasons = append(r.reasons, Reason{Node: n.name,
				Text: fmt.Sprintf("fail-count %s on %s, below migration-threshold %s", fc, n.name, cib.Score(r.threshold))})
		}
		return
	}
	target := r.banTarget()
	if done[target] {
		return
	}
	done[target] = true
	s.resourceLocation(target, n, cib.MinusInfinity,
		fmt.Sprintf("%s is banned: fail-count %s ≥ migration-threshold %s", n.name, fc, cib.Score(r.threshold)))
}
