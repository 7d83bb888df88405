package mon

import (
	"cmp"
	"sort"
	"strings"
	"time"

	"pacer/api"
)

// MaxEvents is how many recent events the view keeps.
const MaxEvents = 20

// Event is one thing that happened, as successive snapshots show it.
// Subject is the node or resource it happened to; What says what.
type Event struct {
	At      time.Time `json:"at"`
	Subject string    `json:"subject"`
	What    string    `json:"what"`
}

// chainGap is how close events must follow each other to be told as one
// story on one line ("node2 lost → fenced → web started on node1").
const chainGap = 2 * time.Second

// Seed derives the events a first snapshot already tells of: the fencing
// history, failures, and where resources last started.
func Seed(st *api.StatusResponse) []Event {
	var out []Event
	for _, e := range st.FenceHistory {
		out = append(out, fenceEvent(e.Target, e.Result, e.Device, e.Error, e.Completion))
	}
	for _, f := range st.Failures {
		out = append(out, Event{At: f.At, Subject: f.Resource, What: f.Op + " failed on " + f.Node})
	}
	for _, r := range st.Resources {
		if r.Role == "Started" && r.Node != "" && !r.Since.IsZero() {
			out = append(out, Event{At: r.Since, Subject: r.ID, What: "started on " + r.Node})
		}
	}
	return keepLast(out)
}

func fenceEvent(target, result, device, errText string, at time.Time) Event {
	if result == "ok" {
		return Event{At: at, Subject: target, What: "fenced"}
	}
	what := "fencing " + result
	if device != "" {
		what += " (" + device + ")"
	}
	if errText != "" && result == "failed" {
		what += ": " + shorten(firstLine(errText), 40)
	}
	return Event{At: at, Subject: target, What: what}
}

// Diff derives what happened between two snapshots. Times come from the
// cluster where it records them (operation results, fencing) and are
// now otherwise (membership changes, which the CIB does not time).
func Diff(prev, cur *api.StatusResponse, now time.Time) []Event {
	if prev == nil {
		return Seed(cur)
	}
	var out []Event
	add := func(at time.Time, subject, what string) {
		if at.IsZero() {
			at = now
		}
		out = append(out, Event{At: at, Subject: subject, What: what})
	}
	if prev.DC != cur.DC {
		if cur.DC == "" {
			add(now, cur.Node, "lost quorum (no DC)")
		} else {
			add(now, cur.DC, "is the DC")
		}
	}
	before := map[string]api.NodeStatus{}
	for _, n := range prev.Nodes {
		before[n.Name] = n
	}
	for _, n := range cur.Nodes {
		p, ok := before[n.Name]
		if !ok {
			add(now, n.Name, "added")
			continue
		}
		switch {
		case p.State == n.State:
		case n.State == "offline" && n.Unclean:
			add(now, n.Name, "lost")
		case n.State == "offline":
			add(now, n.Name, "left")
		case p.State == "offline":
			add(now, n.Name, "joined")
		case n.State == "standby" || n.State == "maintenance":
			add(now, n.Name, "in "+n.State)
		default:
			add(now, n.Name, "out of "+p.State)
		}
		if n.Fencing && !p.Fencing {
			add(now, n.Name, "being fenced")
		}
	}
	seen := map[string]bool{}
	for _, e := range prev.FenceHistory {
		seen[e.Target+"|"+e.Start.String()] = true
	}
	for _, e := range cur.FenceHistory {
		if !seen[e.Target+"|"+e.Start.String()] {
			out = append(out, fenceEvent(e.Target, e.Result, e.Device, e.Error, e.Completion))
		}
	}
	was := map[string]api.ResourceStatus{}
	for _, r := range prev.Resources {
		was[r.ID] = r
	}
	for _, r := range cur.Resources {
		p, ok := was[r.ID]
		delete(was, r.ID)
		at := time.Time{}
		if r.Since.After(p.Since) {
			at = r.Since
		}
		switch {
		case !ok:
			add(now, r.ID, "created")
		case r.Role == "Started" && r.Node != "" && (p.Role != "Started" || p.Node != r.Node):
			add(at, r.ID, "started on "+r.Node)
		case r.Role != "Started" && p.Role == "Started":
			add(at, r.ID, "stopped on "+p.Node)
		}
		if ok && r.Failed && !p.Failed {
			where := cmp.Or(r.Node, r.FailCountNode)
			add(at, r.ID, strings.TrimSpace("failed on "+where))
		}
		if r.Blocked != "" && r.Blocked != p.Blocked {
			add(now, r.ID, r.Blocked)
		}
	}
	for _, r := range prev.Resources {
		if _, gone := was[r.ID]; gone {
			add(now, r.ID, "deleted")
		}
	}
	return out
}

// Append adds events to a journal, keeping it in time order and at most
// MaxEvents long.
func Append(journal []Event, evs ...Event) []Event {
	return keepLast(append(append([]Event(nil), journal...), evs...))
}

func keepLast(evs []Event) []Event {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	if len(evs) > MaxEvents {
		evs = evs[len(evs)-MaxEvents:]
	}
	return evs
}

// chains tells events that follow each other closely as one line, the
// subject said once while it stays the same.
func chains(evs []Event, loc *time.Location) []string {
	var out []string
	var b strings.Builder
	var last Event
	for i, e := range evs {
		if i > 0 && e.At.Sub(last.At) <= chainGap {
			b.WriteString(" → ")
			if e.Subject != last.Subject {
				b.WriteString(e.Subject + " ")
			}
		} else {
			if i > 0 {
				out = append(out, b.String())
				b.Reset()
			}
			b.WriteString(e.Subject + " ")
		}
		b.WriteString(e.What + " " + e.At.In(loc).Format("15:04:05.000"))
		last = e
	}
	if len(evs) > 0 {
		out = append(out, b.String())
	}
	return out
}
