package scheduler

// This file is the action-flag engine. Every action is either required or
// optional and runnable or not; orderings between actions carry rules
// that make one action's flags follow another's (Pacemaker's
// pcmk__update_action_for_orderings). Flags only ever move one way —
// optional to required, runnable to unrunnable — so a worklist reaches a
// fixpoint in time linear in the number of orderings.

type actKind uint8

const (
	actStart   actKind = iota // start a primitive on node
	actStop                   // stop a primitive on node
	actFence                  // fence node
	actRunning                // pseudo: every member/instance has started
	actStopped                // pseudo: every member/instance has stopped
)

func (k actKind) String() string {
	return [...]string{"start", "stop", "fence", "running", "stopped"}[k]
}

// action is one node of the transition graph.
type action struct {
	id       int
	kind     actKind
	rsc      *resource
	node     *node
	required bool // must happen in this transition
	runnable bool // can happen
	pseudo   bool // not executed: implied by fencing, or a group/clone milestone
	phantom  bool // start of a resource that has no node: exists to block dependents
	why      string
	reason   string // why it is unrunnable
	out, in  []*rel
	anyLeft  int // relAnyBlocks: runnable inputs left
	queued   bool
}

// label names the action in reasons ("vip start").
func (a *action) label() string {
	if a.kind == actFence {
		return "fencing of " + a.node.name
	}
	if a.kind == actRunning {
		return a.rsc.id + " start"
	}
	if a.kind == actStopped {
		return a.rsc.id + " stop"
	}
	return a.rsc.id + " " + a.kind.String()
}

// relFlag is a set of rules an ordering carries; every relation also
// orders first before then in the graph.
type relFlag uint16

const (
	relOrdered          relFlag = 1 << iota // ordering only
	relFirstImpliesThen                     // first required => then required
	relThenImpliesFirst                     // then required => first required
	relUnrunnableBlocks                     // first unrunnable => then unrunnable
	relAnyBlocks                            // then unrunnable once every such first is
	relRestart                              // stop->start of one resource, or group stops
	relAsymmetric                           // non-symmetrical mandatory order
)

type rel struct {
	first, then *action
	flags       relFlag
	spent       bool // relAnyBlocks: first already counted as unrunnable
}

func (s *scheduler) newAction(k actKind, r *resource, n *node) *action {
	a := s.actSlab.new()
	*a = action{id: len(s.actions), kind: k, rsc: r, node: n, runnable: true}
	s.actions = append(s.actions, a)
	return a
}

// order adds a relation; nil actions (a resource that has no such action)
// are skipped.
func (s *scheduler) order(first, then *action, flags relFlag) {
	if first == nil || then == nil || first == then {
		return
	}
	r := s.relSlab.new()
	*r = rel{first: first, then: then, flags: flags}
	first.out = append(first.out, r)
	then.in = append(then.in, r)
}

func (s *scheduler) setRequired(a *action, why string) {
	if a.required || a.phantom {
		return
	}
	a.required = true
	if a.why == "" {
		a.why = why
	}
	s.enqueue(a)
}

func (s *scheduler) setUnrunnable(a *action, why string) {
	if !a.runnable || (a.pseudo && a.kind == actStop) {
		return // a stop implied by fencing always happens
	}
	a.runnable = false
	if a.reason == "" {
		a.reason = why
	}
	s.enqueue(a)
}

func (s *scheduler) enqueue(a *action) {
	if !a.queued {
		a.queued = true
		s.work = append(s.work, a)
	}
}

// propagate runs the rules to a fixpoint.
func (s *scheduler) propagate() {
	for _, a := range s.actions {
		n, any := 0, false
		for _, r := range a.in {
			if r.flags&relAnyBlocks == 0 {
				continue
			}
			any = true
			if r.first.runnable {
				n++
			} else {
				r.spent = true
			}
		}
		a.anyLeft = n
		if any && n == 0 {
			s.setUnrunnable(a, "no instance can start")
		}
	}
	for _, a := range s.actions {
		for _, r := range a.out {
			s.evalRel(r)
		}
	}
	for len(s.work) > 0 {
		a := s.work[len(s.work)-1]
		s.work = s.work[:len(s.work)-1]
		a.queued = false
		for _, r := range a.out {
			s.evalRel(r)
		}
		for _, r := range a.in {
			s.evalRel(r)
		}
	}
}

// evalRel applies one relation's rules given the current flags.
func (s *scheduler) evalRel(r *rel) {
	f, t := r.first, r.then
	if r.flags&relFirstImpliesThen != 0 && f.required {
		s.setRequired(t, "because "+f.label()+" is required")
	}
	if r.flags&relThenImpliesFirst != 0 && t.required {
		s.setRequired(f, "because "+t.label()+" is required")
	}
	if r.flags&relUnrunnableBlocks != 0 && !f.runnable {
		s.setUnrunnable(t, "due to unrunnable "+f.label())
	}
	if r.flags&relAnyBlocks != 0 && !f.runnable && !r.spent {
		r.spent = true
		t.anyLeft--
		if t.anyLeft <= 0 {
			s.setUnrunnable(t, "no instance of "+t.rsc.id+" can start")
		}
	}
	if r.flags&relRestart != 0 {
		// A required start needs the stop before it; a start that cannot
		// run stops the resource (handle_restart_ordering); a stop that
		// is needed but cannot run blocks what must follow it.
		if t.required {
			s.setRequired(f, "because "+t.label()+" is required")
		}
		if !t.runnable && t.rsc == f.rsc && t.rsc.managed && f.runnable {
			s.setRequired(f, t.label()+" cannot run")
		}
		if f.required && !f.runnable {
			s.setUnrunnable(t, "due to unrunnable "+f.label())
		}
	}
	if r.flags&relAsymmetric != 0 && !f.runnable {
		staying := t.kind == actStart && !t.required && len(t.rsc.active) == 1 && t.rsc.active[0] == t.node
		if !staying {
			s.setRequired(t, "it must wait for "+f.label())
			s.setUnrunnable(t, "due to unrunnable "+f.label())
		}
	}
}
