package daemon

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"pacer/alerts"
	"pacer/crm/cib"
	"pacer/membership"
	"pacer/resources"
)

// Who sends which alert follows Pacemaker, where every node alerts for
// what it sees itself: resource alerts come from the node that ran the
// operation, node alerts from every node that sees a peer join or leave,
// fencing alerts from every node once the result is in the CIB, and
// attribute alerts from the node whose attribute changed.

func newAlertRunner(d *Daemon) *alerts.Runner {
	return alerts.New(alerts.Config{
		Version:  Version,
		Clock:    d.clock,
		Logger:   d.log.With("sub", "alerts"),
		Finished: d.metrics.observeAlert,
	})
}

// observeOp sees every operation this node's executor finishes: it feeds
// the operation metrics and sends resource alerts.
func (d *Daemon) observeOp(ev resources.Event, changed bool) {
	c, _ := d.st.Read()
	d.metrics.observeOp(ev, opAgentName(c, ev))
	if ae, ok := resourceAlert(ev, changed); ok && len(c.Config.Alerts) > 0 {
		d.alerts.Send(c.Config.Alerts, ae)
	}
}

// resourceAlert is the alert for an executor event, if it deserves one.
// As in Pacemaker, a recurring monitor that repeats its last result and
// a probe that finds what was expected (not running) are not news; nor
// is a batch probe, which only answers the tool that asked.
func resourceAlert(ev resources.Event, changed bool) (alerts.Event, bool) {
	r := ev.Record
	if !changed || ev.Source == "probe" {
		return alerts.Event{}, false
	}
	target := r.Expected()
	if r.Operation == "monitor" && r.IntervalMS == 0 && r.RC == target {
		return alerts.Event{}, false
	}
	desc := execStatusText[r.OpStatus]
	if r.OpStatus == 0 {
		desc = exitText(r.RC)
	}
	return alerts.Event{
		Kind: cib.AlertKindResource, Node: ev.Node, Resource: ev.Resource, Task: r.Operation,
		IntervalMS: r.IntervalMS, TargetRC: target, Status: r.OpStatus, RC: r.RC, ExecTimeMS: r.ExecTimeMS, Desc: desc,
	}, true
}

// execStatusText and exitText give CRM_alert_desc Pacemaker's words.
var execStatusText = map[int]string{-1: "Pending", 1: "Cancelled", 2: "Timed Out", 3: "NOT SUPPORTED", 4: "Error", 5: "Hard error", 6: "Fatal error", 7: "NOT INSTALLED"}

func exitText(rc int) string {
	words := []string{"OK", "Error occurred", "Invalid parameter", "Unimplemented", "Insufficient privileges", "Not installed", "Not configured", "Not running", "Promoted", "Failed in promoted role"}
	if rc >= 0 && rc < len(words) {
		return words[rc]
	}
	return "Unknown exit status " + strconv.Itoa(rc)
}

// eventWatch is what the last look at the cluster saw, to tell what is new.
type eventWatch struct {
	self    string
	started time.Time
	members map[string]bool // gossip member (alive or suspect) or lost
	fences  map[cib.FenceEvent]bool
	attrs   map[string]string // this node's attributes, permanent and transient
	epoch   uint64
	// ready is false while the node replays its log after a start: the
	// changes it applies then are history, not events.
	ready bool
}

// eventLoop turns CIB and gossip changes into alerts and counters.
func (d *Daemon) eventLoop() {
	cibCh, cancelCIB := d.st.Subscribe()
	defer cancelCIB()
	memCh, cancelMem := d.changes.subscribe()
	defer cancelMem()
	c, _ := d.st.Read()
	w := &eventWatch{self: d.cfg.NodeName, started: d.clock(), epoch: c.Version.Epoch}
	w.members, _ = memberChanges(nil, d.ml.Members())
	w.fences, _ = fenceChanges(nil, c.FenceHistory, w.started)
	w.attrs, _ = attrChanges(nil, ownAttrs(c, w.self))
	for {
		select {
		case <-d.done:
			return
		case _, ok := <-cibCh:
			if !ok {
				return
			}
			d.cibChanged(w)
		case <-memCh:
			d.membersChanged(w)
		}
	}
}

func (d *Daemon) membersChanged(w *eventWatch) {
	var changes []nodeChange
	w.members, changes = memberChanges(w.members, d.ml.Members())
	if len(changes) == 0 {
		return
	}
	c, _ := d.st.Read()
	for _, ch := range changes {
		id := ""
		if n := c.Config.Node(ch.node); n != nil {
			id = n.ID
		}
		if len(c.Config.Alerts) > 0 {
			d.alerts.Send(c.Config.Alerts, alerts.Event{Kind: cib.AlertKindNode, Node: ch.node, NodeID: id, Desc: ch.state})
		}
	}
}

func (d *Daemon) cibChanged(w *eventWatch) {
	c, _ := d.st.Read()
	if c.Version.Epoch != w.epoch {
		w.epoch = c.Version.Epoch
		d.metrics.configChanged(d.clock())
	}
	if !w.ready {
		st := d.st.Stats()
		applied, _ := strconv.ParseUint(st["applied_index"], 10, 64)
		commit, _ := strconv.ParseUint(st["commit_index"], 10, 64)
		leader, _ := d.st.Leader()
		w.ready = leader != "" && commit > 0 && applied >= commit
	}
	var ops []fenceOp
	w.fences, ops = fenceChanges(w.fences, c.FenceHistory, w.started)
	var attrs []attrChange
	w.attrs, attrs = attrChanges(w.attrs, ownAttrs(c, w.self))
	if !w.ready {
		return
	}
	for _, op := range ops {
		d.metrics.observeFence(op)
	}
	if len(c.Config.Alerts) == 0 {
		return
	}
	for _, op := range ops {
		d.alerts.Send(c.Config.Alerts, op.alert())
	}
	id := ""
	if n := c.Config.Node(w.self); n != nil {
		id = n.ID
	}
	for _, a := range attrs {
		d.alerts.Send(c.Config.Alerts, alerts.Event{Kind: cib.AlertKindAttribute, Node: w.self, NodeID: id, AttrName: a.name, AttrValue: a.value})
	}
}

type nodeChange struct{ node, state string }

// memberChanges compares gossip's members with the last view: a node
// that joins or comes back is "member", one declared dead or gone is
// "lost" (Pacemaker's words). Suspect still counts as member: a missed
// probe is not a lost node. Witnesses run no resources and are left out.
func memberChanges(prev map[string]bool, members []membership.Member) (map[string]bool, []nodeChange) {
	next := map[string]bool{}
	var out []nodeChange
	for _, m := range members {
		if m.Role == membership.RoleWitness {
			continue
		}
		up := m.Up()
		next[m.Name] = up
		was, known := prev[m.Name]
		switch {
		case prev == nil:
		case up && (!known || !was):
			out = append(out, nodeChange{m.Name, "member"})
		case !up && known && was:
			out = append(out, nodeChange{m.Name, "lost"})
		}
	}
	for name, was := range prev {
		if _, still := next[name]; !still && was {
			out = append(out, nodeChange{name, "lost"})
		}
	}
	return next, out
}

// fenceOp is one fencing operation: the attempts of one target and
// action that one change of the CIB recorded together.
type fenceOp struct {
	target, action, executor, origin string
	attempts                         []cib.FenceEvent
}

func (o fenceOp) result() string {
	for _, a := range o.attempts {
		if a.Result == "ok" {
			return "ok"
		}
	}
	return "failed"
}

// alert says what Pacemaker's fencing alert says: the task is the
// notification (st_notify_fence), the description a summary, rc 0 for
// success.
func (o fenceOp) alert() alerts.Event {
	origin := o.origin
	if origin == "" {
		origin = "a client"
	}
	rc := 0
	status := "OK"
	if o.result() != "ok" {
		last := o.attempts[len(o.attempts)-1]
		rc = 1
		status = "Error"
		if last.Result == "timeout" {
			status = "Timed Out"
		}
		if last.Error != "" {
			status += fmt.Sprintf(" (%s)", last.Error)
		}
	}
	desc := fmt.Sprintf("Operation %s of %s by %s for %s@%s: %s", o.action, o.target, o.executor, origin, o.executor, status)
	return alerts.Event{Kind: cib.AlertKindFencing, Node: o.target, Task: "st_notify_fence", RC: rc, Desc: desc}
}

// fenceChanges finds the fence history entries not seen before and
// groups them into operations. Entries that ended before this node
// started are history, not events.
func fenceChanges(seen map[cib.FenceEvent]bool, hist []cib.FenceEvent, started time.Time) (map[cib.FenceEvent]bool, []fenceOp) {
	next := make(map[cib.FenceEvent]bool, len(hist))
	var out []fenceOp
	for _, e := range hist {
		next[e] = true
		if seen == nil || seen[e] || e.Completion.Before(started) {
			continue
		}
		i := len(out) - 1
		if i < 0 || out[i].target != e.Target || out[i].action != e.Action {
			out = append(out, fenceOp{target: e.Target, action: e.Action, executor: e.Executor, origin: e.Origin})
			i++
		}
		out[i].attempts = append(out[i].attempts, e)
	}
	return next, out
}

type attrChange struct{ name, value string }

// ownAttrs is this node's permanent attributes overlaid with its
// transient ones (fail counts, last failures), as crm_attribute sees them.
func ownAttrs(c *cib.CIB, self string) map[string]string {
	out := map[string]string{}
	if n := c.Config.Node(self); n != nil {
		for k, v := range n.Attributes {
			out[k] = v
		}
	}
	if ns := c.Status.Nodes[self]; ns != nil {
		for k, v := range ns.Attributes {
			out[k] = v
		}
	}
	return out
}

// attrChanges lists attributes set, changed or removed (value "").
func attrChanges(prev, cur map[string]string) (map[string]string, []attrChange) {
	var out []attrChange
	if prev != nil {
		for _, k := range slices.Sorted(maps.Keys(cur)) {
			if old, ok := prev[k]; !ok || old != cur[k] {
				out = append(out, attrChange{k, cur[k]})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(prev)) {
			if _, ok := cur[k]; !ok {
				out = append(out, attrChange{k, ""})
			}
		}
	}
	return cur, out
}
