package scheduler

import "sort"

// scheduleFencing decides which unclean nodes are fenced in this
// transition (schedule_fencing_and_shutdowns). A node is fenced when
// fencing is enabled, a stonith device exists, some resource is managed,
// and the partition may fence it: with quorum, with
// no-quorum-policy=ignore, or when the node is still in our membership.
// An unclean node that cannot be fenced keeps its resources: their stops
// cannot run, so nothing is started elsewhere (see actions.go), which is
// what prevents split-brain.
func (s *scheduler) scheduleFencing() {
	for _, r := range s.prims {
		if r.managed {
			s.haveManaged = true
			break
		}
	}
	for _, n := range s.nodes {
		if !n.unclean {
			continue
		}
		if why := s.cannotFence(n); why != "" {
			s.warnf("node %s is unclean (%s) but cannot be fenced: %s", n.name, n.reason, why)
			continue
		}
		n.fence = true
		a := s.newAction(actFence, nil, n)
		a.required = true
		s.fences = append(s.fences, a)
		s.tr.Fencing = append(s.tr.Fencing, n.name)
	}
	sort.Strings(s.tr.Fencing)
}

// cannotFence says why a node cannot be fenced now ("" if it can).
func (s *scheduler) cannotFence(n *node) string {
	switch {
	case !s.opt.stonith:
		return "stonith-enabled=false"
	case !s.haveFencing:
		return "no stonith device is configured"
	case !s.haveManaged:
		return "no resource is managed"
	case s.in.Quorum, s.opt.noQuorumPolicy == "ignore", n.online:
		return ""
	}
	return "this partition has no quorum (no-quorum-policy=" + s.opt.noQuorumPolicy + ")"
}
