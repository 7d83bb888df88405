package scheduler

import (
	"pacer/crm/cib"
)

// assignResources chooses a node for every resource, top-level resources
// in priority order. Assigning a resource first assigns whatever it is
// colocated with, so the order only matters between unrelated resources
// (through the tie-break on resources already placed).
func (s *scheduler) assignResources() {
	if s.opt.stonith && !s.haveFencing {
		s.warnf("resource start-up disabled since no STONITH resources have been defined: " +
			"create a stonith device or set stonith-enabled=false")
	}
	for _, r := range s.tops {
		s.assign(r, nil, true)
	}
}

// assign dispatches on the resource kind and returns the node chosen (for
// a group, its first member's; for a clone, nil).
func (s *scheduler) assign(r *resource, prefer *node, stopIfFail bool) *node {
	switch r.kind {
	case kGroup:
		return s.assignGroup(r, prefer, stopIfFail)
	case kClone:
		s.assignClone(r, prefer)
		return nil
	}
	return s.assignPrimitive(r, prefer, stopIfFail)
}

// assignPrimitive is pcmk__primitive_assign: apply mandatory colocations
// first (so as many as possible are satisfied), then optional ones, then
// the resource's own state (target-role, quorum, management), then pick
// the best node.
func (s *scheduler) assignPrimitive(r *resource, prefer *node, stopIfFail bool) *node {
	if r.parent != nil && r.parent.state == unassigned {
		s.assign(r.parent, prefer, stopIfFail)
	}
	switch r.state {
	case assigned:
		return r.assigned
	case assigning:
		return nil // colocation loop
	}
	r.state = assigning
	tw, wt := s.thisWithList(r), s.withThisList(r)
	for _, c := range tw {
		if c.mandatory() {
			s.applyThisWith(c, r)
		}
	}
	for _, c := range wt {
		if c.mandatory() {
			s.addDependentScores(c, r)
		}
	}
	for _, c := range tw {
		if !c.mandatory() {
			s.applyThisWith(c, r)
		}
	}
	for _, c := range wt {
		if !c.mandatory() {
			s.addDependentScores(c, r)
		}
	}
	switch {
	case r.orphan:
		s.banEverywhere(r, "it is no longer configured")
	case r.targetStopped:
		s.banEverywhere(r, "target-role=Stopped")
	case r.statusStopped:
		s.banEverywhere(r, "a failure with on-fail=stop keeps it stopped")
	case !s.in.Quorum && s.opt.noQuorumPolicy == "freeze" && len(r.active) == 0:
		s.banEverywhere(r, "no quorum (no-quorum-policy=freeze): a stopped resource stays stopped")
	}
	if s.opt.stonith && !s.haveFencing {
		r.managed = false
	}
	switch {
	case !r.managed:
		s.assignTo(r, r.currentNode(), true)
	case s.opt.stopAll:
		r.reasons = append(r.reasons, Reason{Text: "stop-all-resources=true"})
		s.assignTo(r, nil, true)
	default:
		s.assignBestNode(r, prefer)
	}
	return r.assigned
}

func (s *scheduler) banEverywhere(r *resource, why string) {
	for i := range r.allowed {
		if r.allowed[i] != scoreAbsent {
			r.allowed[i] = cib.MinusInfinity
		}
	}
	r.reasons = append(r.reasons, Reason{Score: cib.MinusInfinity, Text: "it cannot run anywhere: " + why})
}

// better reports whether node a is preferred over node b for r, as
// Pacemaker's compare_nodes sorts them: higher score (nodes that cannot
// run resources count as -INFINITY), then fewer resources assigned in
// this run, then the node r runs on now, then node name.
func (s *scheduler) better(r *resource, a, b *node, cur *node) bool {
	sa, sb := s.effective(r.allowed, a.idx), s.effective(r.allowed, b.idx)
	if sa != sb {
		return sa > sb
	}
	if a.count != b.count {
		return a.count < b.count
	}
	if cur != nil && (a == cur) != (b == cur) {
		return a == cur
	}
	return a.name < b.name
}

// assignBestNode is assign_best_node. The best node by better() wins,
// except that a preferred node (a clone instance's current node) is kept
// if it scores as well as the best, and a resource whose best score is
// positive stays on its current node when that node ties on score, even
// if it holds more resources: moving a healthy resource for balance alone
// is not worth an outage.
func (s *scheduler) assignBestNode(r *resource, prefer *node) {
	cur := r.currentNode()
	var best *node
	for _, n := range s.nodes {
		if r.allowed[n.idx] == scoreAbsent {
			continue
		}
		if best == nil || s.better(r, n, best, cur) {
			best = n
		}
	}
	var chosen *node
	if prefer != nil && best != nil && r.allowed[prefer.idx] != scoreAbsent &&
		s.effective(r.allowed, prefer.idx) >= s.effective(r.allowed, best.idx) &&
		prefer.available() && r.allowed[prefer.idx] >= 0 {
		chosen = prefer
	}
	if chosen == nil && best != nil {
		chosen = best
		bs := s.effective(r.allowed, best.idx)
		if bs > 0 && cur != nil && cur != best && cur.available() &&
			r.allowed[cur.idx] != scoreAbsent && r.allowed[cur.idx] == bs {
			chosen = cur
		}
	}
	s.assignTo(r, chosen, false)
}

// assignTo is pcmk__assign_resource for a primitive. Unless forced, a
// node with a negative score or that cannot run resources is refused and
// the resource stays unassigned (stopped).
func (s *scheduler) assignTo(r *resource, n *node, force bool) {
	if !force && n != nil && (r.allowed[n.idx] < 0 || !n.available()) {
		n = nil
	}
	r.state = assigned
	r.assigned = n
	if n != nil {
		n.count++
	}
}

// unassign undoes the assignment of r and its descendants (used when a
// clone instance could not keep its current node).
func (s *scheduler) unassign(r *resource) {
	r.state = unassigned
	if r.assigned != nil && r.isPrimitive() {
		r.assigned.count--
	}
	r.assigned = nil
	for _, c := range r.children {
		s.unassign(c)
	}
}
