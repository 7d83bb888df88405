package scheduler

import (
	"pacer/crm/cib"
)

// createActions gives every primitive a start (on its assigned node, or
// a "phantom" start that can never run when it has none) and a stop on
// every node it is active on, with the flags its own situation implies
// (pcmk__primitive_create_actions). Group, clone, fencing and
// anti-colocation orderings are added here too; order constraints follow
// in order.go, and flags.go settles the flags.
func (s *scheduler) createActions() {
	for _, r := range s.prims {
		s.primitiveActions(r)
	}
	all := s.byIDSorted()
	for i := len(all) - 1; i >= 0; i-- { // children before parents
		r := all[i]
		switch r.kind {
		case kGroup:
			s.collectiveActions(r, relUnrunnableBlocks)
			s.groupOrderings(r)
		case kClone:
			s.collectiveActions(r, relAnyBlocks)
		}
	}
	for _, f := range s.fences {
		for _, r := range s.prims {
			for _, st := range r.stops {
				if st.node == f.node {
					s.order(f, st, relOrdered)
				}
			}
			if !r.stonith && r.start != nil && !r.start.phantom {
				s.order(f, r.start, relOrdered)
			}
		}
	}
	s.antiColocationOrderings()
}

// primitiveActions creates one primitive's start and stops.
func (s *scheduler) primitiveActions(r *resource) {
	next := r.assigned
	if r.targetStopped || r.orphan || r.statusStopped {
		if r.managed {
			next = nil
		}
	}
	cur := r.currentNode()
	if next == nil || (!r.managed && cur == nil) {
		r.start = s.newAction(actStart, r, nil)
		r.start.phantom = true
		r.start.runnable = false
		r.start.reason = r.id + " cannot run anywhere"
	} else {
		r.start = s.newAction(actStart, r, next)
	}
	if !r.managed {
		for _, n := range r.active {
			st := s.newAction(actStop, r, n)
			st.runnable = false
			st.reason = r.id + " is unmanaged"
			r.stops = append(r.stops, st)
			s.order(st, r.start, relFirstImpliesThen|relRestart)
		}
		return
	}
	moving := cur != nil && next != nil && (next != cur || len(r.active) > 1)
	needStop := moving || r.failed
	if !r.start.phantom {
		switch {
		case cur == nil:
			r.start.required = true
			r.start.why = "it is stopped and should run"
		case needStop:
			r.start.required = true
			r.start.why = stopWhy(r, moving)
		}
		s.startRunnable(r.start)
	}
	for _, n := range r.active {
		st := s.newAction(actStop, r, n)
		switch {
		case next == nil:
			st.required = true
			st.why = "it should not run"
		case needStop:
			st.required = true
			st.why = stopWhy(r, moving)
		}
		switch {
		case n.fence:
			st.pseudo = true // fencing stops it
		case n.unclean:
			st.runnable = false
			st.reason = n.name + " is unclean and cannot be fenced"
		case !n.online:
			st.runnable = false
			st.reason = n.name + " is offline"
		case n.pending:
			st.runnable = false
			st.reason = n.name + " is not ready (pending)"
		}
		r.stops = append(r.stops, st)
		s.order(st, r.start, relFirstImpliesThen|relRestart)
	}
}

func stopWhy(r *resource, moving bool) string {
	switch {
	case len(r.active) > 1:
		return "it is active on more than one node"
	case moving:
		return "it moves"
	}
	return "it failed"
}

// startRunnable sets a start's runnable flag from where it would run and
// from the quorum policy (update_resource_action_runnable): without
// quorum, policy stop (and suicide) lets nothing start and freeze lets
// only running resources keep running.
func (s *scheduler) startRunnable(a *action) {
	switch {
	case a.node.pending:
		a.runnable = false
		a.reason = a.node.name + " is not ready (pending)"
	case s.in.Quorum || s.opt.noQuorumPolicy == "ignore":
	case s.opt.noQuorumPolicy == "freeze":
		if len(a.rsc.active) == 0 {
			a.runnable = false
			a.reason = "due to no quorum (no-quorum-policy=freeze)"
		}
	default:
		a.runnable = false
		a.reason = "due to no quorum (no-quorum-policy=" + s.opt.noQuorumPolicy + ")"
	}
}

// collectiveActions creates a group's or clone's milestones: "running"
// once its members/instances have started (a group needs all of them, a
// clone any one) and "stopped" once they have stopped.
func (s *scheduler) collectiveActions(r *resource, blocks relFlag) {
	r.group = &groupActions{}
	run := s.newAction(actRunning, r, nil)
	run.pseudo = true
	stopped := s.newAction(actStopped, r, nil)
	stopped.pseudo = true
	r.group.running, r.group.stopped = run, stopped
	for _, c := range r.children {
		s.order(startOf(c), run, relFirstImpliesThen|blocks)
		for _, st := range stopsOf(c) {
			s.order(st, stopped, relFirstImpliesThen|relUnrunnableBlocks)
		}
	}
	if len(r.children) == 0 {
		run.runnable = false
		run.reason = r.id + " has no members"
	}
}

// startOf returns the action that stands for "r has started".
func startOf(r *resource) *action {
	if r.isPrimitive() {
		return r.start
	}
	if r.group != nil {
		return r.group.running
	}
	return nil
}

// stopsOf returns the actions that stand for "r has stopped".
func stopsOf(r *resource) []*action {
	if r.isPrimitive() {
		return r.stops
	}
	if r.group != nil {
		return []*action{r.group.stopped}
	}
	return nil
}

// antiColocationOrderings orders, for a -INFINITY colocation, the stop
// of one resource before the start of the other on the same node, so two
// resources that must never share a node never do, even briefly.
func (s *scheduler) antiColocationOrderings() {
	for _, c := range s.colocs {
		if c.score > cib.MinusInfinity {
			continue
		}
		for _, a := range c.dependent.primitives() {
			for _, b := range c.primary.primitives() {
				sameNodeOrder(s, a, b)
				sameNodeOrder(s, b, a)
			}
		}
	}
}

func sameNodeOrder(s *scheduler, a, b *resource) {
	if b.start == nil || b.start.node == nil {
		return
	}
	for _, st := range a.stops {
		if st.node == b.start.node {
			s.order(st, b.start, relOrdered)
		}
	}
}

// summarize turns the settled actions into the per-primitive answer:
// the Action list (what crm_simulate's transition summary says) and the
// placement after the transition.
func (s *scheduler) summarize() {
	s.tr.Resources = make([]ResourceState, 0, len(s.prims))
	for _, r := range s.prims {
		place := s.placement(r)
		s.tr.Placement[r.id] = place
		next := Stopped
		if r.assigned != nil && r.start != nil && !r.start.phantom {
			next = r.assigned.name
		}
		rs := ResourceState{ID: r.id, Agent: agentName(r), Current: nodeNames(r.active),
			Next: next, Placement: place, Managed: r.managed, Failed: r.failed, Orphan: r.orphan}
		if g := r.groupOf(); g != nil {
			rs.Group = g.base
		}
		if c := r.cloneOf(); c != nil {
			rs.Clone = c.id
		}
		for _, n := range s.nodes {
			if s.failCounts[n.idx] == nil {
				continue
			}
			if fc, _ := s.failCount(r, n); fc > 0 {
				if rs.FailCounts == nil {
					rs.FailCounts = map[string]cib.Score{}
				}
				rs.FailCounts[n.name] = fc
			}
		}
		s.tr.Resources = append(s.tr.Resources, rs)
		if r.managed {
			s.tr.Actions = append(s.tr.Actions, s.describe(r)...)
		}
	}
}

// placement is where the primitive is after the transition, assuming
// every runnable action succeeds: its new node if the start runs, else
// any node it is on whose stop does not run (not a fenced one), else
// Stopped.
func (s *scheduler) placement(r *resource) string {
	if st := r.start; st != nil && !st.phantom && st.node != nil {
		if st.required && st.runnable {
			return st.node.name
		}
	}
	var stay *node
	for _, st := range r.stops {
		if st.node.fence || (st.required && st.runnable) {
			continue
		}
		if stay == nil || st.node == r.assigned {
			stay = st.node
		}
	}
	if stay != nil {
		return stay.name
	}
	return Stopped
}

// describe classifies a managed primitive's change as crm_simulate's
// summary does (rsc_action_default): start, stop, move, recover or
// restart, blocked when the wanted action cannot run.
func (s *scheduler) describe(r *resource) []Action {
	start := r.start
	startReq := start != nil && !start.phantom && start.required
	cur := r.currentNode()
	var reqStops []*action
	for _, st := range r.stops {
		if st.required {
			reqStops = append(reqStops, st)
		}
	}
	stopsRun := true
	stopReason := ""
	for _, st := range reqStops {
		if !st.runnable {
			stopsRun = false
			stopReason = st.reason
		}
	}
	switch {
	case cur == nil:
		if startReq {
			return []Action{{Resource: r.id, Kind: ActStart, To: start.node.name,
				Blocked: !start.runnable, Reason: start.reason}}
		}
		return nil
	case !startReq:
		var out []Action
		for _, st := range reqStops {
			out = append(out, Action{Resource: r.id, Kind: ActStop, From: st.node.name,
				Blocked: !st.runnable, Reason: st.reason})
		}
		return out
	}
	moving := start.node != cur || len(r.active) > 1
	kind := ActRestart
	switch {
	case r.failed, len(r.active) > 1:
		kind = ActRecover
	case moving:
		kind = ActMove
	}
	if start.runnable {
		return []Action{{Resource: r.id, Kind: kind, From: cur.name, To: start.node.name}}
	}
	if len(reqStops) > 0 && stopsRun {
		var out []Action
		for _, st := range reqStops {
			out = append(out, Action{Resource: r.id, Kind: ActStop, From: st.node.name, Reason: start.reason})
		}
		return out
	}
	why := start.reason
	if stopReason != "" {
		why = stopReason
	}
	return []Action{{Resource: r.id, Kind: kind, From: cur.name, To: start.node.name, Blocked: true, Reason: why}}
}

func agentName(r *resource) string {
	if r.prim == nil {
		return ""
	}
	return r.prim.Agent().String()
}
