package scheduler

import (
	"fmt"
	"strings"
)

// Summary renders the transition as text in the spirit of crm_simulate's
// output: node states, the transition summary (one line per fencing and
// per changed primitive), the steps, the placement after the transition,
// and with scores the allocation score table (crm_simulate -s).
func (t *Transition) Summary(scores bool) string {
	var b strings.Builder
	b.WriteString("Node List:\n")
	for _, n := range t.Nodes {
		fmt.Fprintf(&b, "  * %s: %s\n", n.Name, nodeStateText(n))
	}
	b.WriteString("\nCurrent Resources:\n")
	for _, r := range t.Resources {
		where := "Stopped"
		if len(r.Current) > 0 {
			where = "Started " + strings.Join(r.Current, " ")
		}
		var flags []string
		if r.Failed {
			flags = append(flags, "FAILED")
		}
		if !r.Managed {
			flags = append(flags, "unmanaged")
		}
		if r.Orphan {
			flags = append(flags, "orphan")
		}
		if len(flags) > 0 {
			where += " (" + strings.Join(flags, ", ") + ")"
		}
		fmt.Fprintf(&b, "  * %s\t(%s):\t %s\n", r.ID, r.Agent, where)
	}
	b.WriteString("\nTransition Summary:\n")
	for _, n := range t.Fencing {
		fmt.Fprintf(&b, "  * Fence (reboot) %s\n", n)
	}
	for _, a := range t.Actions {
		b.WriteString("  * " + actionText(a) + "\n")
	}
	b.WriteString("\nExecuting Cluster Transition:\n")
	for _, s := range t.Steps {
		b.WriteString("  * " + s.String() + "\n")
	}
	b.WriteString("\nRevised Cluster Status:\n")
	for _, r := range t.Resources {
		p := t.Placement[r.ID]
		if p != Stopped {
			p = "Started " + p
		} else {
			p = "Stopped"
		}
		fmt.Fprintf(&b, "  * %s:\t %s\n", r.ID, p)
	}
	if scores && t.Scores != nil {
		b.WriteString("\nAllocation Scores:\n")
		for i, r := range t.Scores.Resources {
			for j, n := range t.Scores.Nodes {
				fmt.Fprintf(&b, "  %s allocation score on %s: %s\n", r, n, t.Scores.Values[i][j])
			}
		}
	}
	if len(t.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, w := range t.Warnings {
			b.WriteString("  * " + w + "\n")
		}
	}
	return b.String()
}

func nodeStateText(n NodeState) string {
	var s string
	switch {
	case n.Unclean && n.Online:
		s = "UNCLEAN (online)"
	case n.Unclean:
		s = "UNCLEAN (offline)"
	case !n.Online:
		s = "OFFLINE"
	case n.Pending:
		s = "pending"
	case n.Shutdown:
		s = "online (shutting down)"
	case n.Standby:
		s = "standby"
	case n.Maintenance:
		s = "maintenance"
	default:
		s = "online"
	}
	if n.Fenced {
		s += ", will be fenced"
	}
	if n.Reason != "" {
		s += " (" + n.Reason + ")"
	}
	return s
}

// actionText is one transition-summary line, e.g. "Move vip ( node3 ->
// node1 )" or "Start B ( node2 ) (blocked: no quorum ...)".
func actionText(a Action) string {
	var s string
	switch a.Kind {
	case ActStart:
		s = fmt.Sprintf("Start %s ( %s )", a.Resource, a.To)
	case ActStop:
		s = fmt.Sprintf("Stop %s ( %s )", a.Resource, a.From)
	case ActMove:
		s = fmt.Sprintf("Move %s ( %s -> %s )", a.Resource, a.From, a.To)
	case ActRecover:
		if a.From == a.To {
			s = fmt.Sprintf("Recover %s ( %s )", a.Resource, a.From)
		} else {
			s = fmt.Sprintf("Recover %s ( %s -> %s )", a.Resource, a.From, a.To)
		}
	case ActRestart:
		s = fmt.Sprintf("Restart %s ( %s )", a.Resource, a.From)
	}
	why := strings.TrimPrefix(a.Reason, "due to ")
	switch {
	case a.Blocked && why != "":
		s += " (blocked: " + why + ")"
	case a.Blocked:
		s += " (blocked)"
	case why != "":
		s += " (" + why + ")"
	}
	return s
}
