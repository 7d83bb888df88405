package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"pacer/crm/cib"
	"pacer/crm/scheduler"
	"pacer/crm/store"
	"pacer/resources"
)

// execute runs a transition's graph. Actions start as soon as every
// predecessor has succeeded; independent ones run in parallel. A failure
// or an abort (the configuration or membership changed) stops the start
// of new actions; the running ones finish and are recorded, then the
// caller computes a new transition from the new truth. Actions on a node
// that leaves the membership are not waited for (see abandon).
//
// It returns the first action that failed: recorded in the CIB, where the
// next transition reacts to it (recover, move, ban), so not an error of
// the round, but the DC's state shows it.
func (c *Controller) execute(ctx context.Context, cur *cib.CIB, tr *scheduler.Transition) (failed error) {
	type result struct {
		id  int
		err error
	}
	n := len(tr.Graph)
	pending := make(map[int]int, n) // id -> unfinished predecessors
	succs := make(map[int][]int, n)
	byID := make(map[int]scheduler.GraphAction, n)
	for _, ga := range tr.Graph {
		byID[ga.ID] = ga
		pending[ga.ID] = len(ga.After)
		for _, p := range ga.After {
			succs[p] = append(succs[p], ga.ID)
		}
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	running := 0
	cancels := make(map[int]context.CancelFunc, n)
	start := func(id int) {
		running++
		actx, cancel := context.WithCancel(ctx)
		cancels[id] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- result{id, c.do(actx, cur, byID[id])}
		}()
	}
	// A node that leaves the membership answers none of the actions sent
	// to it; they are lost (Pacemaker's "action lost"), not failed.
	// Waiting for their replies would hold the transition, and with it
	// the node's fencing and the recovery of what it ran, until TCP or
	// the op timeout gives up: tens of seconds for a node that died with
	// a stop in flight. They are cancelled instead, and the next
	// transition fences the node.
	lost := map[int]bool{}
	abandon := func() bool {
		alive := c.cfg.Members.Alive()
		found := false
		for id, cancel := range cancels {
			ga := byID[id]
			if ga.Kind == scheduler.StepFence || ga.Node == "" || alive[ga.Node] || lost[id] {
				continue
			}
			c.log.Warn("node left the membership while an action ran on it: the action is lost", "action", describe(ga))
			lost[id] = true
			found = true
			cancel()
		}
		return found
	}
	for _, ga := range tr.Graph {
		if pending[ga.ID] == 0 {
			start(ga.ID)
		}
	}
	epoch := cur.Version
	var firstErr error
	aborted := false
	for running > 0 {
		var r result
		select {
		case r = <-results:
		case <-c.kick:
			// Membership events kick the controller.
			if abandon() {
				aborted = true
			}
			continue
		}
		running--
		cancels[r.id]()
		delete(cancels, r.id)
		if r.err != nil && lost[r.id] {
			c.recordLost(ctx, cur, byID[r.id])
			continue
		}
		if r.err != nil {
			c.log.Warn("action failed; the transition stops here", "action", describe(byID[r.id]), "err", r.err)
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		if firstErr != nil || aborted {
			continue
		}
		if now, _ := c.cfg.Store.Read(); now.Version.Epoch != epoch.Epoch || now.Version.AdminEpoch != epoch.AdminEpoch || c.membershipChanged(now) {
			c.log.Info("configuration or membership changed: finishing the running actions, then recomputing")
			aborted = true
			continue
		}
		for _, s := range succs[r.id] {
			pending[s]--
			if pending[s] == 0 {
				start(s)
			}
		}
	}
	wg.Wait()
	return firstErr
}

// membershipChanged reports whether gossip disagrees with the node states
// the transition was computed from.
func (c *Controller) membershipChanged(cur *cib.CIB) bool {
	alive := c.cfg.Members.Alive()
	for _, n := range cur.Config.Nodes {
		ns := cur.Status.Nodes[n.Name]
		up := ns != nil && ns.InCCM && ns.Crmd
		if up != alive[n.Name] {
			return true
		}
	}
	return false
}

// describe words an action for State.Pending; ReadPending reads it back.
func describe(ga scheduler.GraphAction) string {
	if ga.Kind == scheduler.StepFence {
		return "fence " + ga.Node
	}
	if ga.IntervalMS > 0 {
		return fmt.Sprintf("monitor %s every %dms on %s", ga.Resource, ga.IntervalMS, ga.Node)
	}
	return fmt.Sprintf("%s %s on %s", ga.Kind, ga.Resource, ga.Node)
}

// ReadPending reads an entry of State.Pending back: the action's kind
// (fence, start, stop, monitor, ...) and what it acts on (the node for a
// fence, the resource otherwise).
func ReadPending(s string) (kind, target string, ok bool) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return "", "", false
	}
	return f[0], f[1], true
}

// describeBlocked words a blocked action for State.Blocked:
// "start web: reason". ReadBlocked reads it back.
func describeBlocked(a scheduler.Action) string {
	return fmt.Sprintf("%s %s: %s", a.Kind, a.Resource, a.Reason)
}

// ReadBlocked reads an entry of State.Blocked back; ok is false for the
// scheduler's warnings listed there too, which name no single action.
func ReadBlocked(s string) (kind, rsc, reason string, ok bool) {
	head, reason, found := strings.Cut(s, ": ")
	f := strings.Fields(head)
	if !found || len(f) != 2 {
		return "", "", "", false
	}
	return f[0], f[1], reason, true
}

// do runs one graph action and records its outcome.
func (c *Controller) do(ctx context.Context, cur *cib.CIB, ga scheduler.GraphAction) error {
	if ga.Kind == scheduler.StepFence {
		return c.fence(ctx, ga.Node)
	}
	p := primitiveFor(cur, ga.Resource)
	if p == nil && ga.Kind == scheduler.StepStop {
		// A deleted resource still running: stop it with the agent its
		// history names, as Pacemaker does with orphans.
		p = orphan(cur, ga.Node, ga.Resource)
	}
	if p == nil {
		return fmt.Errorf("%s: resource %s is not configured", describe(ga), ga.Resource)
	}
	if p.Class == "stonith" {
		// A fencing device runs in the fencer, not as a process on the
		// node: starting or stopping it registers it there.
		return c.recordStonith(ctx, ga, p)
	}
	iv := time.Duration(ga.IntervalMS) * time.Millisecond
	a := resources.Action{Primitive: *p, Op: string(ga.Kind), Interval: iv, Timeout: p.OpTimeout(string(ga.Kind), ga.IntervalMS, c.cfg.ActionTimeout)}
	c.log.Info("action", "do", describe(ga))
	if ga.Kind == scheduler.StepMonitor {
		return c.recur(ctx, ga.Node, a)
	}
	if ga.Kind == scheduler.StepStop && cur.Config.Primitive(p.ID) == nil {
		// An orphan: once stopped, nothing of it is left to remember.
		if err := c.run(ctx, ga.Node, a); err != nil {
			return err
		}
		_, err := c.cfg.Store.Apply(ctx, &store.ForgetResource{Resource: p.ID, Node: ga.Node})
		return err
	}
	if ga.Kind == scheduler.StepStop {
		// Recurring monitors go first, or they would report the stop as
		// a failure.
		for _, op := range p.Ops {
			if d, err := cib.ParseDuration(op.Interval); op.Name == "monitor" && err == nil && d > 0 {
				if err := c.cfg.Runner.Cancel(ctx, ga.Node, p.ID, "monitor", d); err != nil {
					c.log.Warn("cancel monitor", "rsc", p.ID, "node", ga.Node, "err", err)
				}
			}
		}
	}
	return c.run(ctx, ga.Node, a)
}

// primitiveFor finds the configuration of a resource id. A clone
// instance ("web:1") runs as its primitive: anonymous clone copies are
// recorded under the primitive's id on each node, as in Pacemaker.
func primitiveFor(cur *cib.CIB, id string) *cib.Primitive {
	if p := cur.Config.Primitive(id); p != nil {
		q := *p
		return &q
	}
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		if p := cur.Config.Primitive(id[:i]); p != nil {
			q := *p
			return &q
		}
	}
	return nil
}

// fence powers a node off through the fencer and records it; only then
// may its resources start elsewhere.
func (c *Controller) fence(ctx context.Context, node string) error {
	if c.cfg.Fencer == nil {
		return fmt.Errorf("fence %s: no fencer is configured on this DC", node)
	}
	fctx, cancel := context.WithTimeout(ctx, c.cfg.FenceTimeout)
	defer cancel()
	c.log.Warn("fencing node", "target", node)
	if err := c.cfg.Fencer.Fence(fctx, node); err != nil {
		return fmt.Errorf("fence %s: %w", node, err)
	}
	_, err := c.cfg.Store.Apply(ctx, &store.RecordFence{Node: node, At: c.clock()})
	return err
}

// orphan rebuilds enough of a deleted primitive from a node's history to
// stop it: its id and agent (the history keeps no parameters).
func orphan(cur *cib.CIB, node, id string) *cib.Primitive {
	ns := cur.Status.Nodes[node]
	if ns == nil {
		return nil
	}
	h := ns.Resources[id]
	if h == nil || h.Type == "" {
		return nil
	}
	return &cib.Primitive{ID: id, Class: h.Class, Provider: h.Provider, Type: h.Type}
}

// recordStonith records a fencing device's start, stop or monitor as done:
// the device is used by the fencer on demand and checked when it fences.
func (c *Controller) recordStonith(ctx context.Context, ga scheduler.GraphAction, p *cib.Primitive) error {
	id := p.ID + "_last_0"
	if ga.IntervalMS > 0 {
		id = fmt.Sprintf("%s_monitor_%d", p.ID, ga.IntervalMS)
	}
	now := c.clock()
	rec := cib.OpRecord{ID: id, Operation: string(ga.Kind), IntervalMS: ga.IntervalMS, LastRun: now, LastRCChange: now,
		Output: "fencing device: registered with the fencer"}
	failed := false
	if ga.Kind == scheduler.StepMonitor {
		rec.RC, rec.Output, failed = c.checkDevice(ctx, p)
	}
	_, err := c.cfg.Store.Apply(ctx, &store.RecordOp{Node: ga.Node, Resource: p.ID, Agent: p.Agent(), Op: rec, Failed: failed})
	return err
}

// checkDevice monitors a fencing device through the fencer: rc 0, or 1
// with the reason.
func (c *Controller) checkDevice(ctx context.Context, p *cib.Primitive) (int, string, bool) {
	dm, ok := c.cfg.Fencer.(DeviceMonitor)
	if !ok {
		return 0, "fencing device: registered (this fencer cannot monitor devices)", false
	}
	mctx, cancel := context.WithTimeout(ctx, c.cfg.ActionTimeout)
	defer cancel()
	if err := dm.MonitorDevice(mctx, p); err != nil {
		return 1, "fencing device does not answer: " + err.Error(), true
	}
	return 0, "fencing device answers", false
}

// monitorDevice repeats a device's monitor when its interval has passed
// since the last one (checked on each idle round and recheck).
func (c *Controller) monitorDevice(ctx context.Context, cur *cib.CIB, p *cib.Primitive, on []string) {
	for _, op := range p.Ops {
		iv, err := cib.ParseDuration(op.Interval)
		if op.Name != "monitor" || err != nil || iv <= 0 {
			continue
		}
		for _, node := range on {
			ns := cur.Status.Nodes[node]
			if ns == nil || ns.Resources[p.ID] == nil {
				continue
			}
			id := fmt.Sprintf("%s_monitor_%d", p.ID, iv.Milliseconds())
			var last time.Time
			for _, r := range ns.Resources[p.ID].Ops {
				if r.ID == id {
					last = r.LastRun
				}
			}
			if c.clock().Sub(last) < iv {
				continue
			}
			ga := scheduler.GraphAction{Kind: scheduler.StepMonitor, Resource: p.ID, Node: node, IntervalMS: iv.Milliseconds()}
			if err := c.recordStonith(ctx, ga, p); err != nil {
				c.log.Warn("record device monitor", "device", p.ID, "err", err)
			}
		}
	}
}

// recordLost notes a start or stop whose node left before answering as
// pending there (store.LostOpID): it may have run. Without it, a node
// that is back in the membership before the next round marks it down
// would be trusted to run nothing, and the resource could start twice.
func (c *Controller) recordLost(ctx context.Context, cur *cib.CIB, ga scheduler.GraphAction) {
	if ga.Kind != scheduler.StepStart && ga.Kind != scheduler.StepStop {
		return
	}
	p := primitiveFor(cur, ga.Resource)
	if p == nil {
		p = orphan(cur, ga.Node, ga.Resource)
	}
	if p == nil {
		return
	}
	now := c.clock()
	rec := cib.OpRecord{ID: store.LostOpID(ga.Resource), Operation: string(ga.Kind), CallID: -1, OpStatus: -1,
		LastRun: now, LastRCChange: now, Output: "lost: " + ga.Node + " left the membership before answering"}
	if _, err := c.cfg.Store.Apply(ctx, &store.RecordOp{Node: ga.Node, Resource: ga.Resource, Agent: p.Agent(), Op: rec}); err != nil {
		c.log.Warn("could not record a lost action", "action", describe(ga), "err", err)
	}
}
