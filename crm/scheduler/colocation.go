package scheduler

import (
	"fmt"
	"math"
	"sort"

	"pacer/crm/cib"
)

// colocation places dependent relative to primary. Group members are
// chained with internal INFINITY colocations (each member with the one
// before it), which is how a group stays together.
type colocation struct {
	id        string
	dependent *resource
	primary   *resource
	score     cib.Score
	internal  bool // group member chain, not written by the user
}

func (c *colocation) mandatory() bool {
	return c.score >= cib.Infinity || c.score <= cib.MinusInfinity
}

func (s *scheduler) unpackColocations() {
	for _, cc := range s.cfg.Constraints.Colocations {
		dep, why := s.lookup(cc.Resource)
		if dep == nil {
			s.warnf("colocation %s ignored: %s", cc.ID, why)
			continue
		}
		prim, why := s.lookup(cc.WithResource)
		if prim == nil {
			s.warnf("colocation %s ignored: %s", cc.ID, why)
			continue
		}
		sc, err := cib.ParseScore(cc.Score)
		if err != nil {
			s.warnf("colocation %s ignored: %v", cc.ID, err)
			continue
		}
		if dep == prim {
			s.warnf("colocation %s ignored: %s cannot be colocated with itself", cc.ID, dep.id)
			continue
		}
		if sc == 0 {
			continue // a zero score has no effect (pcmk__new_colocation)
		}
		s.addColocation(&colocation{id: cc.ID, dependent: dep, primary: prim, score: sc})
	}
}

func (s *scheduler) addColocation(c *colocation) {
	c.dependent.ownThis = append(c.dependent.ownThis, c)
	c.primary.ownWith = append(c.primary.ownWith, c)
	s.colocs = append(s.colocs, c)
}

// thisWithList is pcmk__this_with_colocations: the colocations that
// place r as the dependent, including those it inherits from its group
// or clone, sorted by the primary's priority. withThisList is the mirror
// image (r as primary). Both are computed once per resource; the
// group rules are the ones in pcmk_sched_group.c: the first member
// carries the group's own colocations and the explicit ones of the other
// members, the last member carries everything colocated with the group.
func (s *scheduler) thisWithList(r *resource) []*colocation {
	s.listColocations(r)
	return r.thisWith
}

func (s *scheduler) withThisList(r *resource) []*colocation {
	s.listColocations(r)
	return r.withThis
}

func (s *scheduler) listColocations(r *resource) {
	if r.listed {
		return
	}
	r.listed = true
	var tw, wt []*colocation
	switch r.kind {
	case kPrimitive:
		tw = append(append(tw, r.ownThis...), parentThisWith(r.parent, r)...)
		wt = append(append(wt, r.ownWith...), parentWithThis(r.parent, r)...)
	case kGroup:
		tw = parentThisWith(r, r)
		wt = parentWithThis(r, r)
	case kClone:
		tw = append(tw, r.ownThis...)
		wt = append(wt, r.ownWith...)
	}
	sort.SliceStable(tw, func(i, j int) bool { return cmpRscPriority(tw[i].primary, tw[j].primary) < 0 })
	sort.SliceStable(wt, func(i, j int) bool { return cmpRscPriority(wt[i].dependent, wt[j].dependent) < 0 })
	r.thisWith, r.withThis = tw, wt
}

func parentThisWith(p, orig *resource) []*colocation {
	if p == nil {
		return nil
	}
	if p.kind == kClone {
		return append([]*colocation(nil), p.ownThis...)
	}
	var out []*colocation
	if orig == p || (len(p.children) > 0 && orig == p.children[0]) {
		out = append(out, p.ownThis...)
		out = append(out, parentThisWith(p.parent, orig)...)
		for _, m := range p.children {
			if m != orig {
				out = append(out, explicit(m.ownThis)...)
			}
		}
		return out
	}
	// Later members follow the group's colocations through the first
	// member, unless an earlier member is unmanaged and cannot move.
	for _, m := range p.children {
		if m == orig {
			break
		}
		if !m.managed {
			for _, c := range p.ownThis {
				if c.score >= cib.Infinity {
					out = append(out, c)
				}
			}
			break
		}
	}
	return out
}

func parentWithThis(p, orig *resource) []*colocation {
	if p == nil {
		return nil
	}
	if p.kind == kClone {
		return append([]*colocation(nil), p.ownWith...)
	}
	if orig != p && (len(p.children) == 0 || orig != p.children[len(p.children)-1]) {
		return nil
	}
	var out []*colocation
	out = append(out, p.ownWith...)
	out = append(out, parentWithThis(p.parent, orig)...)
	for _, m := range p.children {
		if m != orig {
			out = append(out, explicit(m.ownWith)...)
		}
	}
	return out
}

func explicit(cs []*colocation) []*colocation {
	var out []*colocation
	for _, c := range cs {
		if !c.internal {
			out = append(out, c)
		}
	}
	return out
}

// cmpRscPriority orders resources for colocation processing: higher
// priority first, then clones before groups before primitives, then id.
func cmpRscPriority(a, b *resource) int {
	switch {
	case a.priority != b.priority:
		if a.priority > b.priority {
			return -1
		}
		return 1
	case a.kind != b.kind:
		if a.kind > b.kind {
			return -1
		}
		return 1
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

// applyThisWith applies a colocation in which the primitive dep (being
// assigned) is the dependent: the primary is assigned first, then dep's
// scores are adjusted to where it went.
func (s *scheduler) applyThisWith(c *colocation, dep *resource) {
	if c.primary.state == unassigned {
		s.assign(c.primary, nil, true)
	}
	s.applyColoc(dep, c.primary, c)
}

// applyColoc adjusts dep's scores for a primary that has been assigned.
// A primary still being assigned (a colocation loop) has no effect, as in
// pcmk__colocation_affects.
func (s *scheduler) applyColoc(dep, primary *resource, c *colocation) {
	if primary.state != assigned {
		return
	}
	switch primary.kind {
	case kPrimitive:
		s.applyColocToScores(dep, primary, c)
	case kGroup:
		if len(primary.children) == 0 {
			return
		}
		// Mandatory: the whole group must be able to run where dep goes,
		// so follow the last member; optional: the first is enough.
		m := primary.children[0]
		if c.score >= cib.Infinity {
			m = primary.children[len(primary.children)-1]
		}
		s.applyColoc(dep, m, c)
	case kClone:
		s.applyColocWithClone(dep, primary, c)
	}
}

// applyColocToScores is pcmk__apply_coloc_to_scores: with the primary on
// node P, a mandatory colocation bans every other node, an optional one
// adds its score on P (an anti-colocation subtracts), and a primary that
// is not running bans a mandatory dependent everywhere. An optional
// colocation that would leave no node is rolled back.
func (s *scheduler) applyColocToScores(dep, primary *resource, c *colocation) {
	pn := primary.assigned
	if pn == nil && c.score < 0 {
		return // keeping away from something that is not running
	}
	work := s.tables.scratch(dep.allowed)
	defer s.tables.release(work)
	for i, sc := range work {
		if sc == scoreAbsent {
			continue
		}
		switch {
		case pn == nil:
			work[i] = sc.Add(-c.score)
		case i == pn.idx:
			if c.score < cib.Infinity {
				work[i] = sc.Add(c.score)
			}
		case c.score >= cib.Infinity:
			work[i] = cib.MinusInfinity
		}
	}
	if !c.mandatory() && !s.anyAvailable(work) {
		s.reason(dep, "", 0, "%s ignored: it would leave %s no node to run on", c.describe(), dep.id)
		return
	}
	copy(dep.allowed, work)
	switch {
	case pn == nil:
		s.reason(dep, "", -c.score, "%s, which is stopped", c.describe())
	case c.score >= cib.Infinity:
		s.reason(dep, "", 0, "%s, which runs on %s: no other node is allowed", c.describe(), pn.name)
	default:
		s.reason(dep, pn.name, c.score, "%s, which runs on %s", c.describe(), pn.name)
	}
}

// describe says what the colocation asks, in words.
func (c *colocation) describe() string {
	what := c.primary.id
	if c.internal {
		what = fmt.Sprintf("%s (the member before it in group %s)", c.primary.id, c.primary.parent.id)
	}
	switch {
	case c.score >= cib.Infinity:
		return "colocated with " + what
	case c.score <= cib.MinusInfinity:
		return "must not run with " + what
	case c.score > 0:
		return fmt.Sprintf("prefers to run with %s (colocation %s, score %s)", what, c.id, c.score)
	}
	return fmt.Sprintf("prefers to avoid %s (colocation %s, score %s)", what, c.id, c.score)
}

// addDependentScores is pcmk__add_dependent_scores: while assigning r,
// fold in the preferences of a resource colocated with it (scaled by the
// colocation score), so that a primary goes where its dependents can
// follow. This is what sums a group's stickiness on its first member and
// moves a whole group when one member is banned.
func (s *scheduler) addDependentScores(c *colocation, r *resource) {
	onlyPositive := r.kind == kClone
	before := s.tables.scratch(r.allowed)
	defer s.tables.release(before)
	factor := float64(c.score) / float64(cib.Infinity)
	s.addColocatedScores(c.dependent, r, &r.allowed, c, factor, onlyPositive)
	for i, sc := range r.allowed {
		if sc != before[i] && sc != scoreAbsent && before[i] != scoreAbsent && s.nodes[i].available() {
			s.reason(r, s.nodes[i].name, sc.Add(-before[i]), "preferences of %s, which is colocated with it", c.dependent.id)
		}
	}
}

// addColocatedScores is add_colocated_node_scores for any resource kind:
// a group delegates to its first member, the rest use their own table.
// The merge is rolled back if it would leave no node available, and it
// recurses into whatever is colocated with the source in turn.
func (s *scheduler) addColocatedScores(src, target *resource, nodes *scoreTable, c *colocation, factor float64, onlyPositive bool) {
	if src.updating {
		return // dependency loop
	}
	src.updating = true
	defer func() { src.updating = false }()
	if src.kind == kGroup {
		if len(src.children) > 0 {
			s.addColocatedScores(src.children[0], target, nodes, c, factor, onlyPositive)
		}
		return
	}
	work := s.tables.scratch(*nodes)
	defer s.tables.release(work)
	s.addMatchingScores(work, src, c, factor, onlyPositive)
	if !s.anyAvailable(work) {
		return
	}
	for _, c2 := range s.withThisList(src) {
		f2 := factor * float64(c2.score) / float64(cib.Infinity)
		s.addColocatedScores(c2.dependent, target, &work, c2, f2, onlyPositive)
	}
	if onlyPositive {
		for i, sc := range work {
			if sc == scoreUnusable {
				work[i] = 1
			}
		}
	}
	copy(*nodes, work)
}

// addMatchingScores is add_node_scores_matching_attr for #uname: add
// factor × src's score on the same node. A negative preference of an
// anti-colocated dependent is ignored unless the dependent can run on one
// node only and the primary is not sticky enough to stay.
func (s *scheduler) addMatchingScores(work scoreTable, src *resource, c *colocation, factor float64, onlyPositive bool) {
	for i, cur := range work {
		if cur == scoreAbsent {
			continue
		}
		score := cib.MinusInfinity
		if src.allowed[i] != scoreAbsent && s.nodes[i].available() {
			score = src.allowed[i]
		}
		if factor < 0 && score < 0 {
			if c.primary.stickiness >= -score || !s.allowedOnOne(c.dependent) {
				continue
			}
		}
		if cur == scoreUnusable {
			continue
		}
		df := factor * float64(score)
		delta := cib.Score(math.Floor(df + 0.5))
		if df < 0 {
			delta = cib.Score(math.Ceil(df - 0.5))
		}
		if delta == 0 && score != 0 {
			if factor > 0 {
				delta = 1
			} else if factor < 0 {
				delta = -1
			}
		}
		next := cur.Add(delta)
		if onlyPositive && next < 0 && cur > 0 {
			work[i] = scoreUnusable
			continue
		}
		if onlyPositive && next < 0 && cur == 0 {
			continue
		}
		work[i] = next
	}
}

func (s *scheduler) allowedOnOne(r *resource) bool {
	n := 0
	for _, sc := range r.allowed {
		if sc != scoreAbsent && sc >= 0 {
			n++
		}
	}
	return n == 1
}

// reason records a contribution on every primitive of r.
func (s *scheduler) reason(r *resource, node string, sc cib.Score, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	for _, p := range r.primitives() {
		p.reasons = append(p.reasons, Reason{Node: node, Score: sc, Text: text})
	}
}
