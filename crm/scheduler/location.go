package scheduler

import (
	"fmt"
	"strconv"
	"strings"

	"pacer/crm/cib"
)

// location is a location constraint evaluated against the nodes: the
// score it gives each matching node, with the words explain uses.
type location struct {
	id     string
	rsc    *resource
	scores []nodeScore
}

type nodeScore struct {
	node  *node
	score cib.Score
	why   string
}

// unpackConstraints reads the three constraint kinds, skipping (with a
// warning) any that name a resource or node that does not exist.
func (s *scheduler) unpackConstraints() {
	s.unpackLocations()
	s.unpackColocations()
	s.unpackOrders()
}

func (s *scheduler) unpackLocations() {
	for _, l := range s.cfg.Constraints.Locations {
		r, why := s.lookup(l.Resource)
		if r == nil {
			s.warnf("location %s ignored: %s", l.ID, why)
			continue
		}
		loc := location{id: l.ID, rsc: r}
		if l.Node != "" {
			n := s.nodeByName[l.Node]
			if n == nil {
				s.warnf("location %s ignored: node %s is not configured", l.ID, l.Node)
				continue
			}
			sc, err := cib.ParseScore(l.Score)
			if err != nil {
				s.warnf("location %s ignored: %v", l.ID, err)
				continue
			}
			loc.scores = append(loc.scores, nodeScore{node: n, score: sc,
				why: fmt.Sprintf("location constraint %s: %s on %s", l.ID, sc, n.name)})
		}
		for _, rule := range l.Rules {
			loc.scores = append(loc.scores, s.evalRule(l, rule)...)
		}
		s.locs = append(s.locs, loc)
	}
}

// evalRule returns the nodes a location rule matches, each with the
// rule's score.
func (s *scheduler) evalRule(l cib.Location, rule cib.Rule) []nodeScore {
	scoreText := rule.Score
	if scoreText == "" {
		scoreText = l.Score
	}
	sc := cib.Score(0)
	if scoreText != "" {
		v, err := cib.ParseScore(scoreText)
		if err != nil {
			s.warnf("location %s rule %s ignored: %v", l.ID, rule.ID, err)
			return nil
		}
		sc = v
	}
	or := strings.EqualFold(rule.BooleanOp, "or")
	var out []nodeScore
	for _, n := range s.nodes {
		if !ruleMatches(rule, or, n.attrs) {
			continue
		}
		out = append(out, nodeScore{node: n, score: sc,
			why: fmt.Sprintf("location constraint %s, rule %s (%s) matches: %s on %s", l.ID, rule.ID, ruleText(rule), sc, n.name)})
	}
	return out
}

// ruleMatches evaluates a rule's expressions with and (default) or or.
// A rule without expressions matches, as in Pacemaker.
func ruleMatches(rule cib.Rule, or bool, attrs map[string]string) bool {
	if len(rule.Expressions) == 0 {
		return true
	}
	for _, e := range rule.Expressions {
		ok := exprMatches(e, attrs)
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or
}

// exprMatches is Pacemaker's attribute expression: defined/not_defined
// test presence; the comparisons use the expression's type, and without a
// type lt/gt/lte/gte compare as integers (as numbers if either side has a
// '.') and eq/ne as case-insensitive strings. An undefined attribute is
// "less than" any value, so ne matches it and lt/gt never do.
func exprMatches(e cib.Expression, attrs map[string]string) bool {
	actual, has := attrs[e.Attribute]
	switch e.Operation {
	case "defined":
		return has
	case "not_defined":
		return !has
	}
	typ := strings.ToLower(e.Type)
	if typ == "" {
		switch e.Operation {
		case "lt", "lte", "gt", "gte":
			typ = "integer"
			if strings.Contains(actual, ".") || strings.Contains(e.Value, ".") {
				typ = "number"
			}
		default:
			typ = "string"
		}
	}
	cmp := -1
	if has {
		cmp = compareTyped(actual, e.Value, typ)
	}
	switch e.Operation {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	}
	if !has {
		return false
	}
	switch e.Operation {
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

// compareTyped compares two values as the given type, falling back to a
// case-insensitive string comparison when they do not parse.
func compareTyped(a, b, typ string) int {
	switch typ {
	case "integer":
		x, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		y, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err1 == nil && err2 == nil {
			return cmpOrdered(x, y)
		}
	case "number":
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err1 == nil && err2 == nil {
			return cmpOrdered(x, y)
		}
	case "version":
		return compareVersions(a, b)
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// compareVersions compares dotted versions field by field, numerically,
// with missing fields counting as 0 ("1.2" == "1.2.0").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int64
		if i < len(as) {
			x, _ = strconv.ParseInt(strings.TrimSpace(as[i]), 10, 64)
		}
		if i < len(bs) {
			y, _ = strconv.ParseInt(strings.TrimSpace(bs[i]), 10, 64)
		}
		if c := cmpOrdered(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func cmpOrdered[T int64 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func ruleText(rule cib.Rule) string {
	parts := make([]string, len(rule.Expressions))
	for i, e := range rule.Expressions {
		switch e.Operation {
		case "defined", "not_defined":
			parts[i] = e.Operation + " " + e.Attribute
		default:
			parts[i] = e.Attribute + " " + e.Operation + " " + e.Value
		}
	}
	op := " and "
	if strings.EqualFold(rule.BooleanOp, "or") {
		op = " or "
	}
	return strings.Join(parts, op)
}

// applyLocations adds every location constraint's scores.
func (s *scheduler) applyLocations() {
	for _, l := range s.locs {
		for _, ns := range l.scores {
			s.applyLocation(l.rsc, ns, true)
		}
	}
}

// applyLocation gives one node score to a resource the way Pacemaker's
// apply_location methods do: a primitive takes it; a group takes it on
// itself and its first member, while later members only get the node
// inserted at 0 (they follow the first member through the group's
// internal colocations, and counting the score once per member would
// multiply it); a clone takes it on itself and on every instance.
func (s *scheduler) applyLocation(r *resource, ns nodeScore, withScore bool) {
	v := ns.score
	if !withScore {
		v = 0
	}
	r.allowed.add(ns.node.idx, v)
	switch r.kind {
	case kPrimitive:
		if withScore {
			r.reasons = append(r.reasons, Reason{Node: ns.node.name, Score: v, Text: ns.why})
		}
	case kGroup:
		for i, m := range r.children {
			s.applyLocation(m, ns, withScore && i == 0)
		}
	case kClone:
		for _, c := range r.children {
			s.applyLocation(c, ns, withScore)
		}
	}
}
