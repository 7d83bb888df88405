package scheduler

import (
	"fmt"
	"sort"

	"pacer/crm/cib"
)

// assignClone is pcmk__clone_assign for anonymous clones: resources the
// clone is colocated with are assigned first, the preferences of
// resources colocated with the clone are folded into its table, and then
// instances are placed (assignInstances).
func (s *scheduler) assignClone(r *resource, prefer *node) {
	if r.state != unassigned {
		return
	}
	r.state = assigning
	for _, c := range s.thisWithList(r) {
		s.assign(c.primary, prefer, true)
	}
	for _, c := range s.withThisList(r) {
		s.addDependentScores(c, r)
	}
	insts := append([]*resource(nil), r.children...)
	sort.SliceStable(insts, func(i, j int) bool {
		ai, aj := s.instanceNode(insts[i]) != nil, s.instanceNode(insts[j]) != nil
		return ai && !aj
	})
	s.assignInstances(r, insts)
	r.state = assigned
}

// instanceNode is where a clone instance runs now (its first member's
// node for a cloned group).
func (s *scheduler) instanceNode(inst *resource) *node {
	ps := inst.primitives()
	if len(ps) == 0 {
		return nil
	}
	return ps[0].currentNode()
}

func instanceFailed(inst *resource) bool {
	for _, p := range inst.primitives() {
		if p.failed {
			return true
		}
	}
	return false
}

// assignInstances is pcmk__assign_instances: first every healthy active
// instance tries to stay where it is (as long as its node does not
// already hold its fair share), then the rest go to the best nodes, at
// most clone-node-max per node and clone-max in total. Instances beyond
// clone-max stay stopped.
func (s *scheduler) assignInstances(c *resource, insts []*resource) {
	available := 0
	for i, sc := range c.allowed {
		c.counts[i] = 0
		if sc != scoreAbsent && s.nodes[i].available() {
			available++
		}
	}
	optimal := 1
	if available > 0 && c.cloneMax/available > 1 {
		optimal = c.cloneMax / available
	}
	done := 0
	for _, inst := range insts {
		if done >= c.cloneMax {
			break
		}
		if inst.state != unassigned {
			continue
		}
		cur := s.instanceNode(inst)
		if cur == nil || instanceFailed(inst) || !cur.available() || c.counts[cur.idx] >= optimal {
			continue
		}
		if s.assignEarly(c, inst, cur, c.cloneMax-done) {
			done++
		}
	}
	for _, inst := range insts {
		if inst.state != unassigned {
			continue
		}
		if done >= c.cloneMax {
			for _, p := range inst.primitives() {
				s.banEverywhere(p, fmt.Sprintf("clone-max=%d instances of %s are already placed", c.cloneMax, c.id))
			}
			s.assign(inst, nil, true)
			continue
		}
		if s.assignInstance(c, inst, nil) != nil {
			done++
		}
	}
}

// assignEarly is assign_instance_early: it tries to keep an instance on
// its current node. When the normal assignment would put it elsewhere,
// the attempt is undone, one instance is reserved for the node it chose
// (so that node counts as holding its share) and the assignment is tried
// again, as long as instances are left to reserve (left: clone-max minus
// the instances already placed). Instances thus go to nodes in
// proportion to their preferences without shuffling running ones:
// reservations only steer this attempt and are dropped afterwards.
func (s *scheduler) assignEarly(c, inst *resource, cur *node, left int) bool {
	for _, p := range inst.primitives() {
		if p.allowed[cur.idx] == scoreAbsent || p.allowed[cur.idx] < 0 {
			return false
		}
	}
	saved := map[*resource]scoreTable{}
	var save func(r *resource)
	save = func(r *resource) {
		saved[r] = r.allowed.clone()
		for _, ch := range r.children {
			save(ch)
		}
	}
	save(inst)
	counts := append([]int(nil), c.counts...)
	kept := false
	for reserved := 0; reserved < left; reserved++ {
		got := s.assignInstance(c, inst, cur)
		if got == cur {
			kept = true
			break
		}
		s.unassign(inst)
		for r, t := range saved {
			r.allowed = t.clone()
		}
		if got == nil {
			break
		}
		// assignInstance counted the instance on got: that count stays
		// as the reservation for the next try.
	}
	copy(c.counts, counts)
	if kept {
		c.counts[cur.idx]++
	}
	return kept
}

// assignInstance bans the nodes an instance may not use (unavailable,
// banned for the clone, or already holding clone-node-max instances) and
// assigns it.
func (s *scheduler) assignInstance(c, inst *resource, prefer *node) *node {
	for i, n := range s.nodes {
		ok := n.available() && c.allowed[i] != scoreAbsent && c.allowed[i] >= 0 &&
			c.counts[i] < c.cloneNodeMax
		if ok {
			continue
		}
		var ban func(r *resource)
		ban = func(r *resource) {
			if r.allowed[i] != scoreAbsent {
				r.allowed[i] = cib.MinusInfinity
			}
			for _, ch := range r.children {
				ban(ch)
			}
		}
		ban(inst)
	}
	got := s.assign(inst, prefer, prefer == nil)
	if got != nil {
		c.counts[got.idx]++
	}
	return got
}

// applyColocWithClone is pcmk__clone_apply_coloc_score for a dependent
// colocated with a clone: mandatory means "only where an instance runs",
// optional adds the score where each instance runs.
func (s *scheduler) applyColocWithClone(dep, c *resource, col *colocation) {
	if col.score >= cib.Infinity {
		where := make([]bool, len(s.nodes))
		var names []string
		for _, inst := range c.children {
			if n := s.instanceNode2(inst); n != nil && !where[n.idx] {
				where[n.idx] = true
				names = append(names, n.name)
			}
		}
		for i := range dep.allowed {
			if dep.allowed[i] != scoreAbsent && !where[i] {
				dep.allowed[i] = cib.MinusInfinity
			}
		}
		if len(names) == 0 {
			s.reason(dep, "", cib.MinusInfinity, "colocated with %s, which runs nowhere", c.id)
		} else {
			s.reason(dep, "", 0, "colocated with %s, which runs on %v: no other node is allowed", c.id, names)
		}
		return
	}
	for _, inst := range c.children {
		s.applyColoc(dep, inst, col)
	}
}

// instanceNode2 is where an instance was assigned (its first member's
// node for a cloned group).
func (s *scheduler) instanceNode2(inst *resource) *node {
	if inst.isPrimitive() {
		return inst.assigned
	}
	if len(inst.children) > 0 {
		return inst.children[0].assigned
	}
	return nil
}
