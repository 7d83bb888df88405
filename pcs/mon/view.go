package mon

import (
	"cmp"
	"fmt"
	"sort"
	"strings"
	"time"

	"pacer/agents"
	"pacer/api"
)

// Snapshot is what one screen shows: a status and the recent events.
type Snapshot struct {
	Status *api.StatusResponse
	Events []Event
}

// Options shape a rendering; the zero value is the one-shot text.
type Options struct {
	// Width wraps event chains; 0 leaves lines whole.
	Width int
	// Loc is the time zone of the times shown (default: local).
	Loc *time.Location
	// HideNodes, HideResources and HideFencing fold sections away
	// (fencing: failed actions and fence history).
	HideNodes, HideResources, HideFencing bool
	// NodeAttrs shows node attributes; HideInactive leaves out stopped
	// resources that are stopped on purpose and have nothing wrong.
	NodeAttrs, HideInactive bool
	// Filter keeps nodes, resources, actions and events that mention it.
	Filter string
}

// Kind says how a line reads: the model maps it to a style, the text
// output ignores it, so the words alone must carry the meaning.
type Kind int

// Line kinds.
const (
	Plain Kind = iota
	Heading
	Good
	Warn
	Bad
	Banner
	Dim
)

// Line is one line of the view. Resource is set on a primitive's line,
// so the screen can select it.
type Line struct {
	Text     string
	Kind     Kind
	Resource string
}

// Text renders the view as plain text, one line each.
func Text(s Snapshot, o Options) string {
	var b strings.Builder
	for _, l := range Render(s, o) {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Render lays a snapshot out the way crm_mon does, with what crm_mon
// lacks: the unsafe banner, blockers, fence history and recent events.
func Render(s Snapshot, o Options) []Line {
	st := s.Status
	if o.Loc == nil {
		o.Loc = time.Local
	}
	v := &view{o: o, filter: strings.ToLower(strings.TrimSpace(o.Filter))}
	for _, b := range banners(st) {
		v.add(Banner, "!! %s", b)
	}
	v.summary(st)
	if !o.HideNodes {
		v.nodes(st)
	}
	bl := blockers(st)
	if !o.HideResources {
		v.resources(st, bl)
	}
	if len(bl) > 0 {
		v.section("Blocked:")
		for _, b := range bl {
			if v.match(b.text) {
				v.lines = append(v.lines, Line{Text: "  * " + b.text, Kind: Bad, Resource: b.resource})
			}
		}
	}
	if !o.HideFencing {
		v.failures(st)
		v.fencing(st)
	}
	v.events(s.Events)
	v.notes(st, bl)
	return v.lines
}

type view struct {
	o      Options
	filter string
	lines  []Line
}

func (v *view) add(k Kind, format string, args ...any) {
	v.lines = append(v.lines, Line{Text: fmt.Sprintf(format, args...), Kind: k})
}

func (v *view) section(title string) {
	v.lines = append(v.lines, Line{}, Line{Text: title, Kind: Heading})
}

// match reports whether any of the words contains the filter.
func (v *view) match(words ...string) bool {
	if v.filter == "" {
		return true
	}
	for _, w := range words {
		if strings.Contains(strings.ToLower(w), v.filter) {
			return true
		}
	}
	return false
}

func (v *view) stamp(t time.Time) string {
	return t.In(v.o.Loc).Format("2006-01-02 15:04:05.000")
}

func (v *view) summary(st *api.StatusResponse) {
	v.add(Plain, "Cluster name: %s", st.ClusterName)
	v.add(Heading, "Cluster Summary:")
	if st.PacerVersion != "" {
		v.add(Plain, "  * Stack: pacer %s", st.PacerVersion)
	}
	if st.DC != "" {
		v.add(Good, "  * Current DC: %s - partition with quorum", st.DC)
	} else {
		v.add(Bad, "  * Current DC: NONE - partition WITHOUT quorum")
	}
	if st.ExpectedVotes > 0 {
		q := fmt.Sprintf("  * Quorum: %d of %d votes", st.Votes, st.ExpectedVotes)
		if st.Witness != "" {
			q += fmt.Sprintf(" (witness %s: %s)", st.Witness, st.WitnessState)
		}
		k := Good
		if st.Votes*2 <= st.ExpectedVotes {
			k = Bad
		} else if st.Votes < st.ExpectedVotes {
			k = Warn
		}
		v.add(k, "%s", q)
	}
	if t := st.TwoNode; t != nil {
		// The words of 'pcsctl quorum status', so both read alike.
		v.add(Plain, "  * Two-node mode (peer %s):", t.Peer)
		v.add(Plain, "    Fence race: %s fences at once, %s waits %s (%s)", t.Winner, t.Loser, t.LoserDelay, t.TieReason)
		if !t.WaitForAllMet {
			v.add(Warn, "    Wait-for-all: the peer has not been seen since this node started")
		}
		if t.Step != "" && t.Step != "idle" {
			v.add(Warn, "    Two-node state: %s: %s", t.Step, t.Reason)
		}
		if t.LastFenceError != "" {
			v.add(Bad, "    Last fence of the peer failed: %s", t.LastFenceError)
		}
	}
	v.add(Plain, "  * CIB version %s (raft index %d), as seen by %s", st.Version, st.Index, st.Node)
	if !st.LastChange.IsZero() {
		v.add(Plain, "  * Last change: %s", v.stamp(st.LastChange))
	}
	if t := st.Transition; t != nil {
		switch {
		case len(t.Pending) > 0:
			v.add(Warn, "  * Transition: %d action(s) running: %s", len(t.Pending), strings.Join(t.Pending, ", "))
		case t.LastError != "":
			v.add(Bad, "  * Transition: failed: %s", t.LastError)
		case t.Idle:
			v.add(Plain, "  * Transition: idle (everything is where it should be)")
		}
	}
	v.add(Plain, "  * %d nodes configured", len(st.Nodes))
	disabled := 0
	for _, r := range st.Resources {
		if r.TargetRole == "Stopped" {
			disabled++
		}
	}
	if disabled > 0 {
		v.add(Plain, "  * %d resource instances configured (%d DISABLED)", len(st.Resources), disabled)
	} else {
		v.add(Plain, "  * %d resource instances configured", len(st.Resources))
	}
}

func (v *view) nodes(st *api.StatusResponse) {
	v.section("Node List:")
	groups := map[string][]string{}
	var odd []Line
	for _, n := range st.Nodes {
		if !v.match(n.Name) {
			continue
		}
		switch {
		case n.Fencing:
			odd = append(odd, Line{Text: fmt.Sprintf("  * Node %s: UNCLEAN (being fenced)", n.Name), Kind: Bad})
			continue
		case n.Unclean:
			odd = append(odd, Line{Text: fmt.Sprintf("  * Node %s: UNCLEAN (offline)", n.Name), Kind: Bad})
			continue
		}
		label := n.Name
		if n.Raft == "nonvoter" {
			label += "(non-voter)"
		}
		groups[n.State] = append(groups[n.State], label)
	}
	for _, s := range []struct {
		key, title string
		kind       Kind
	}{{"online", "Online", Good}, {"standby", "Node standby", Warn}, {"maintenance", "Node maintenance", Warn}, {"offline", "OFFLINE", Bad}} {
		names := groups[s.key]
		if len(names) == 0 {
			continue
		}
		text := fmt.Sprintf("  * %s: [ %s ]", s.title, strings.Join(names, " "))
		for _, n := range st.Nodes {
			if n.Name == st.DC && n.State == s.key && !n.Unclean && !n.Fencing {
				text += " (DC: " + st.DC + ")"
			}
		}
		v.lines = append(v.lines, Line{Text: text, Kind: s.kind})
	}
	v.lines = append(v.lines, odd...)
	if !v.o.NodeAttrs {
		return
	}
	v.section("Node Attributes:")
	for _, n := range st.Nodes {
		if !v.match(n.Name) {
			continue
		}
		id := ""
		if n.ID != "" {
			id = " (" + n.ID + ")"
		}
		v.add(Plain, "  * Node: %s%s:", n.Name, id)
		keys := make([]string, 0, len(n.Attributes))
		for k := range n.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.add(Plain, "    * %-32s: %s", k, n.Attributes[k])
		}
		if len(keys) == 0 {
			v.add(Dim, "    * (no attributes)")
		}
	}
}

// interesting: a stopped resource worth showing even when inactive ones
// are hidden, because something is wrong with it.
func interesting(r api.ResourceStatus) bool {
	return r.Role != "Stopped" || r.Failed || r.Blocked != "" || r.Pending != "" || r.FailCount > 0 || (r.TargetRole != "Stopped" && r.Managed)
}

func (v *view) resources(st *api.StatusResponse, bl []blocker) {
	title := "Full List of Resources:"
	if v.o.HideInactive {
		title = "Active Resources:"
	}
	v.section(title)
	blocked := map[string]bool{}
	for _, b := range bl {
		blocked[b.resource] = true
	}
	hidden, shown := 0, 0
	parent := ""
	for _, r := range st.Resources {
		if v.o.HideInactive && !interesting(r) {
			hidden++
			continue
		}
		if !v.match(r.ID, r.Group, r.Clone, r.Agent, r.Node) {
			continue
		}
		shown++
		indent := "  "
		p := r.Clone + "/" + r.Group
		if r.Group != "" || r.Clone != "" {
			if p != parent {
				switch {
				case r.Clone != "" && r.Group != "":
					v.add(Plain, "  * Clone Set: %s [%s]:", r.Clone, r.Group)
				case r.Clone != "":
					v.add(Plain, "  * Clone Set: %s [%s]:", r.Clone, r.ID)
				default:
					v.add(Plain, "  * Resource Group: %s:", r.Group)
				}
			}
			indent = "    "
		}
		parent = p
		text, kind := resourceState(r, blocked[r.ID])
		v.lines = append(v.lines, Line{Text: fmt.Sprintf("%s* %s\t(%s):\t %s", indent, r.ID, r.Agent, text), Kind: kind, Resource: r.ID})
	}
	if len(st.Resources) == 0 {
		v.add(Plain, "  * No resources")
	} else if shown == 0 && v.filter != "" {
		v.add(Dim, "  * no resource matches %q", v.o.Filter)
	}
	if hidden > 0 {
		v.add(Dim, "  * %d inactive %s not shown", hidden, plural(hidden, "resource", "resources"))
	}
}

// resourceState words a primitive's state as crm_mon does ("Started
// node1", "FAILED node2", "Stopped (disabled)"), with what crm_mon puts
// elsewhere: fail count against migration-threshold, and "blocked".
func resourceState(r api.ResourceStatus, blocked bool) (string, Kind) {
	kind := Good
	var state string
	switch {
	case r.Pending != "":
		state, kind = r.Pending, Warn
		if r.Node != "" {
			state += " " + r.Node
		}
	case r.Failed && r.Node != "":
		state, kind = "FAILED "+r.Node, Bad
	case r.Node != "":
		state = r.Role + " " + r.Node
	default:
		state = r.Role
		if r.TargetRole != "Stopped" {
			kind = Warn
		} else {
			kind = Dim
		}
	}
	var flags []string
	if r.TargetRole == "Stopped" {
		flags = append(flags, "disabled")
	}
	if !r.Managed {
		flags = append(flags, "unmanaged")
		kind = Warn
	}
	if r.Failed && r.Node == "" {
		flags = append(flags, "failed")
		kind = Bad
	}
	if blocked {
		flags = append(flags, "blocked")
		kind = Bad
	}
	if r.FailCount > 0 {
		fc := fmt.Sprintf("fail-count %s", failCountText(r.FailCount))
		if r.MigrationThreshold != "" {
			fc += "/" + r.MigrationThreshold
		}
		if r.FailCountNode != "" {
			fc += " on " + r.FailCountNode
		}
		flags = append(flags, fc)
		if kind == Good {
			kind = Warn
		}
	}
	if len(flags) > 0 {
		state += " (" + strings.Join(flags, ", ") + ")"
	}
	return state, kind
}

func failCountText(n int) string {
	if n >= 1000000 {
		return "INFINITY"
	}
	return fmt.Sprint(n)
}

func (v *view) failures(st *api.StatusResponse) {
	var lines []Line
	for _, f := range st.Failures {
		if !v.match(f.Resource, f.Node, f.Op) {
			continue
		}
		op := f.Op
		if f.IntervalMS > 0 {
			op = fmt.Sprintf("%s_%d", f.Op, f.IntervalMS)
		}
		text := fmt.Sprintf("  * %s_%s on %s '%s' (%d): status=%s, last-rc-change=%s", f.Resource, op, f.Node, agents.Code(f.RC), f.RC, f.Status, f.At.In(v.o.Loc).Format("2006-01-02 15:04:05Z07:00"))
		if f.FailCount != "" {
			text += ", fail-count=" + f.FailCount
		}
		if f.Reason != "" {
			text += ", '" + f.Reason + "'"
		}
		lines = append(lines, Line{Text: text, Kind: Bad, Resource: f.Resource})
	}
	if len(lines) == 0 {
		return
	}
	v.section("Failed Resource Actions:")
	v.lines = append(v.lines, lines...)
	v.add(Dim, "  ('pcsctl resource cleanup RESOURCE' clears these)")
}

func (v *view) fencing(st *api.StatusResponse) {
	var lines []Line
	for i := len(st.FenceHistory) - 1; i >= 0; i-- {
		e := st.FenceHistory[i]
		if !v.match(e.Target, e.Device, e.Executor) {
			continue
		}
		who := fmt.Sprintf("delegate=%s, client=%s", e.Executor, cmp.Or(e.Origin, "unknown"))
		if e.Device != "" {
			who += ", device=" + e.Device
		}
		if e.Result == "ok" {
			lines = append(lines, Line{Text: fmt.Sprintf("  * %s of %s successful: %s, completed='%s' (%s)", e.Action, e.Target, who, v.stamp(e.Completion), e.Duration.Round(time.Millisecond)), Kind: Plain})
			continue
		}
		text := fmt.Sprintf("  * %s of %s %s: %s, last-failed='%s'", e.Action, e.Target, e.Result, who, v.stamp(e.Completion))
		if e.Error != "" {
			text += ": " + firstLine(e.Error)
		}
		lines = append(lines, Line{Text: text, Kind: Bad})
	}
	if len(lines) == 0 {
		return
	}
	v.section("Fencing History:")
	v.lines = append(v.lines, lines...)
}

func (v *view) events(evs []Event) {
	var kept []Event
	for _, e := range evs {
		if v.match(e.Subject, e.What) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return
	}
	v.section("Recent Events:")
	for _, c := range chains(kept, v.o.Loc) {
		for i, part := range wrapChain("  * "+c, v.o.Width) {
			k := Plain
			if i > 0 {
				k = Dim
			}
			v.add(k, "%s", part)
		}
	}
}

// wrapChain breaks an event chain at its arrows to fit width.
func wrapChain(s string, width int) []string {
	if width <= 0 || len([]rune(s)) <= width {
		return []string{s}
	}
	parts := strings.Split(s, " → ")
	var out []string
	cur := parts[0]
	for _, p := range parts[1:] {
		if len([]rune(cur))+3+len([]rune(p)) <= width {
			cur += " → " + p
			continue
		}
		out = append(out, cur)
		cur = "    → " + p
	}
	return append(out, cur)
}

func (v *view) notes(st *api.StatusResponse, bl []blocker) {
	told := map[string]bool{}
	for _, b := range bl {
		told[b.resource] = true
	}
	var kept []string
	for _, n := range st.Notes {
		// The DC's "blocked: start web: ..." notes are told above,
		// with the blocker named, for resources the view knows.
		if rest, ok := strings.CutPrefix(n, "blocked: "); ok {
			if f := strings.Fields(rest); len(f) > 1 && told[strings.TrimSuffix(f[1], ":")] {
				continue
			}
		}
		if v.match(n) {
			kept = append(kept, n)
		}
	}
	if len(kept) == 0 {
		return
	}
	v.section("Notes:")
	for _, n := range kept {
		v.add(Warn, "  * %s", n)
	}
}
