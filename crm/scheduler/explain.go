package scheduler

import (
	"fmt"
	"strings"

	"pacer/crm/cib"
)

// explain fills the parts of the transition meant for people: the node
// table, the score table, the reasons and the warnings.
func (s *scheduler) explain() {
	s.tr.Nodes = s.nodeStates()
	ids := make([]string, len(s.prims))
	for i, r := range s.prims {
		ids[i] = r.id
	}
	s.tr.Scores = newScoreTable(nodeNames(s.nodes), ids)
	for i, r := range s.prims {
		row := s.tr.Scores.Values[i]
		for _, n := range s.nodes {
			row[n.idx] = s.effective(r.allowed, n.idx)
		}
		if len(r.reasons) > 0 {
			s.tr.Reasons[r.id] = r.reasons
		}
	}
	s.tr.Warnings = s.warnings
}

// Explanation says in sentences why a primitive is where it is, or why
// it is stopped, built only from the transition (so `pcsctl explain` can
// explain a transition computed elsewhere).
type Explanation struct {
	Resource string `json:"resource"`
	// Summary is one sentence: where it runs now and what happens to it.
	Summary string `json:"summary"`
	// Nodes has one line per node: its score and what made it.
	Nodes []string `json:"nodes"`
	// Other lists reasons that concern every node or the resource itself.
	Other []string `json:"other,omitempty"`
}

// String renders the explanation as text.
func (e *Explanation) String() string {
	var b strings.Builder
	b.WriteString(e.Summary + "\n")
	for _, l := range e.Nodes {
		b.WriteString("  " + l + "\n")
	}
	for _, l := range e.Other {
		b.WriteString("  - " + l + "\n")
	}
	return b.String()
}

// Explain explains one primitive (clone instances as "id:N").
func (t *Transition) Explain(id string) (*Explanation, error) {
	var rs *ResourceState
	for i := range t.Resources {
		if t.Resources[i].ID == id {
			rs = &t.Resources[i]
			break
		}
	}
	if rs == nil {
		return nil, fmt.Errorf("%w: %s is not a primitive of this transition", ErrUnknownResource, id)
	}
	e := &Explanation{Resource: id, Summary: t.summaryOf(rs)}
	reasons := t.Reasons[id]
	for _, n := range t.Nodes {
		var sc cib.Score
		ok := false
		if t.Scores != nil {
			sc, ok = t.Scores.Get(id, n.Name)
		}
		line := n.Name + ": "
		if ok {
			line += sc.String()
		}
		if n.Name == rs.Next {
			line += " (chosen)"
		}
		var why []string
		if !n.CanRun() {
			why = append(why, nodeWhy(n))
		}
		for _, r := range reasons {
			if r.Node == n.Name {
				why = append(why, r.Text)
			}
		}
		if len(why) > 0 {
			line += " — " + strings.Join(why, "; ")
		}
		e.Nodes = append(e.Nodes, line)
	}
	for _, r := range reasons {
		if r.Node == "" {
			e.Other = append(e.Other, r.Text)
		}
	}
	if rs.Group != "" {
		e.Other = append(e.Other, fmt.Sprintf("member of group %s: members run together, start in order and stop in reverse", rs.Group))
	}
	if rs.Clone != "" {
		e.Other = append(e.Other, fmt.Sprintf("instance of clone %s", rs.Clone))
	}
	if !rs.Managed {
		e.Other = append(e.Other, "unmanaged: the cluster neither starts, stops nor recovers it")
	}
	return e, nil
}

func nodeWhy(n NodeState) string {
	var s string
	switch {
	case n.Unclean && n.Fenced:
		s = n.Name + " is unclean and will be fenced"
	case n.Unclean:
		s = n.Name + " is unclean and cannot be fenced"
	case !n.Online:
		s = n.Name + " is offline"
	case n.Pending:
		s = n.Name + " is not ready to run resources"
	case n.Shutdown:
		s = n.Name + " is shutting down"
	case n.Standby:
		s = n.Name + " is in standby"
	case n.Maintenance:
		s = n.Name + " is in maintenance"
	}
	if n.Reason != "" {
		s += " (" + n.Reason + ")"
	}
	return s
}

// summaryOf is the one-sentence answer: what happens to the resource.
func (t *Transition) summaryOf(rs *ResourceState) string {
	now := "is stopped"
	if len(rs.Current) > 0 {
		now = "runs on " + strings.Join(rs.Current, ", ")
	}
	for _, a := range t.Actions {
		if a.Resource != rs.ID {
			continue
		}
		var s string
		switch a.Kind {
		case ActStart:
			s = fmt.Sprintf("%s %s and will start on %s", rs.ID, now, a.To)
		case ActStop:
			s = fmt.Sprintf("%s %s and will be stopped on %s", rs.ID, now, a.From)
		case ActMove:
			s = fmt.Sprintf("%s %s and will move from %s to %s", rs.ID, now, a.From, a.To)
		case ActRecover:
			s = fmt.Sprintf("%s %s, has failed, and will be recovered on %s", rs.ID, now, a.To)
		case ActRestart:
			s = fmt.Sprintf("%s %s and will be restarted", rs.ID, now)
		}
		if a.Blocked {
			s += ", but this is blocked"
		}
		if a.Reason != "" {
			s += " (" + a.Reason + ")"
		}
		return s + "."
	}
	switch {
	case !rs.Managed:
		return fmt.Sprintf("%s %s and is left alone (unmanaged).", rs.ID, now)
	case rs.Placement == Stopped:
		return fmt.Sprintf("%s %s and stays stopped: no node has a usable score.", rs.ID, now)
	}
	return fmt.Sprintf("%s %s and stays there.", rs.ID, now)
}
