package scheduler

import (
	"pacer/crm/cib"
)

// internalConstraints adds the colocations a group implies: every member
// is colocated (INFINITY) with the member before it. Start order and
// reverse stop order are added with the actions (see groupOrderings).
func (s *scheduler) internalConstraints() {
	for _, r := range s.byIDSorted() {
		if r.kind != kGroup {
			continue
		}
		for i := 1; i < len(r.children); i++ {
			s.addColocation(&colocation{id: "#group-members", dependent: r.children[i],
				primary: r.children[i-1], score: cib.Infinity, internal: true})
		}
	}
}

// byIDSorted lists every resource of the tree in document order
// (parents before children), for phases that must be deterministic.
func (s *scheduler) byIDSorted() []*resource {
	var out []*resource
	var walk func(r *resource)
	walk = func(r *resource) {
		out = append(out, r)
		for _, c := range r.children {
			walk(c)
		}
	}
	for _, r := range s.tops {
		walk(r)
	}
	return out
}

// assignGroup is pcmk__group_assign: members are assigned in order; the
// first member already carries the whole group's preferences (its own,
// the group's, and the members' through the colocation chain), and each
// later member is colocated with the one before it, so the group lands
// on one node or its tail stops.
func (s *scheduler) assignGroup(r *resource, prefer *node, stopIfFail bool) *node {
	switch r.state {
	case assigned:
		return r.assigned
	case assigning:
		return nil
	}
	r.state = assigning
	var first *node
	for i, m := range r.children {
		n := s.assign(m, prefer, stopIfFail)
		if i == 0 {
			first = n
		}
	}
	r.state = assigned
	r.assigned = first
	return first
}

// groupActions are a group's or clone's pseudo actions, the points order
// constraints on the whole resource attach to: "running" (after all
// members have started) and "stopped" (after all have stopped).
type groupActions struct {
	running, stopped *action
}

// groupOrderings wires a group's members: each member starts after the
// one before it and stops before it, and a required or unrunnable start
// of one member carries over to the next (a restarted member restarts
// everything after it; a member that cannot start blocks the rest).
func (s *scheduler) groupOrderings(g *resource) {
	var prev *resource
	for _, m := range g.children {
		if prev != nil {
			s.order(prev.start, m.start, relFirstImpliesThen|relUnrunnableBlocks)
			for _, st := range m.stops {
				for _, pst := range prev.stops {
					s.order(st, pst, relRestart)
				}
			}
		}
		prev = m
	}
}
