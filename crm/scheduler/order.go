package scheduler

import (
	"strings"
)

// ordering is an order constraint with its resources resolved.
type ordering struct {
	id          string
	first, then *resource
	firstAction actKind // actStart or actStop
	thenAction  actKind
	kind        string // Mandatory, Optional, Serialize
	symmetrical bool
}

func (s *scheduler) unpackOrders() {
	for _, o := range s.cfg.Constraints.Orders {
		first, why := s.lookup(o.First)
		if first == nil {
			s.warnf("order %s ignored: %s", o.ID, why)
			continue
		}
		then, why := s.lookup(o.Then)
		if then == nil {
			s.warnf("order %s ignored: %s", o.ID, why)
			continue
		}
		if first == then {
			s.warnf("order %s ignored: %s cannot be ordered after itself", o.ID, first.id)
			continue
		}
		fa := o.FirstAction
		if fa == "" {
			fa = "start"
		}
		ta := o.ThenAction
		if ta == "" {
			ta = fa
		}
		kind := o.Kind
		if kind == "" {
			kind = "Mandatory"
		}
		s.orders = append(s.orders, &ordering{id: o.ID, first: first, then: then,
			firstAction: s.orderAction(o.ID, fa), thenAction: s.orderAction(o.ID, ta),
			kind: kind, symmetrical: o.IsSymmetrical()})
	}
}

// orderAction maps an order's action; promote and demote (promotable
// clones are not modelled) count as start and stop.
func (s *scheduler) orderAction(id, a string) actKind {
	switch strings.ToLower(a) {
	case "stop", "demote":
		return actStop
	case "start", "promote":
		return actStart
	}
	s.warnf("order %s: action %q is not known; using start", id, a)
	return actStart
}

// applyOrderings turns order constraints into relations and settles all
// action flags. A Mandatory symmetrical order "A then B" means: B starts
// after A, a required start of A requires B's (so B restarts when A
// does), B cannot start if A cannot, and in reverse B stops before A and
// stopping A stops B. Non-symmetrical Mandatory orders only block B when
// A cannot run; Optional (and Serialize) orders only order.
func (s *scheduler) applyOrderings() {
	for _, o := range s.orders {
		var flags relFlag
		switch {
		case o.kind != "Mandatory":
			flags = relOrdered
		case !o.symmetrical:
			flags = relAsymmetric
		default:
			flags = relFirstImpliesThen
			if o.firstAction == actStart {
				flags |= relUnrunnableBlocks
			}
		}
		for _, f := range firstActions(o.first, o.firstAction) {
			for _, t := range thenActions(o.then, o.thenAction) {
				s.order(f, t, flags)
			}
		}
		if !o.symmetrical {
			continue
		}
		inv := relOrdered
		if o.kind == "Mandatory" {
			inv = relThenImpliesFirst
		}
		for _, f := range thenActions(o.then, invert(o.thenAction)) {
			for _, t := range thenActions(o.first, invert(o.firstAction)) {
				s.order(f, t, inv)
			}
		}
	}
	s.propagate()
}

func invert(k actKind) actKind {
	if k == actStart {
		return actStop
	}
	return actStart
}

// firstActions is what "first" means in an order: a primitive's own
// action, or a group's or clone's milestone (all members started, all
// stopped).
func firstActions(r *resource, k actKind) []*action {
	if r.isPrimitive() {
		if k == actStart {
			return []*action{r.start}
		}
		return r.stops
	}
	if r.group == nil {
		return nil
	}
	if k == actStart {
		return []*action{r.group.running}
	}
	return []*action{r.group.stopped}
}

// thenActions is what "then" means: the action of every primitive inside
// the resource, so the order reaches each member as in
// pcmk__group_update_ordered_actions.
func thenActions(r *resource, k actKind) []*action {
	var out []*action
	for _, p := range r.primitives() {
		if k == actStart {
			out = append(out, p.start)
		} else {
			out = append(out, p.stops...)
		}
	}
	return out
}
