package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"pacer/crm/cib"
	"pacer/crm/scheduler"
	"pacer/crm/store"
	"pacer/resources"
)

// Runner runs resource actions on nodes: in pacerd, the local executor
// for this node and the API for the others.
type Runner interface {
	Execute(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error)
	// Recur starts a recurring monitor and returns its first result.
	Recur(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error)
	Cancel(ctx context.Context, node, rsc, op string, interval time.Duration) error
}

// Fencer powers a node off; it returns only when the node is confirmed
// down, or an error.
type Fencer interface {
	Fence(ctx context.Context, node string) error
}

// DeviceMonitor checks a fencing device; a Fencer may implement it, so
// devices are monitored like other resources.
type DeviceMonitor interface {
	MonitorDevice(ctx context.Context, p *cib.Primitive) error
}

// Store is the replicated CIB.
type Store interface {
	Read() (*cib.CIB, uint64)
	Apply(ctx context.Context, cmd store.Command) (store.Result, error)
	Subscribe() (<-chan struct{}, func())
}

// Members tells which nodes gossip sees alive now.
type Members interface {
	Alive() map[string]bool
	// Boots names the run of each node's daemon ("" when unknown): a new
	// one means the node restarted, and its executor knows nothing.
	Boots() map[string]string
}

// Config wires a controller. Zero durations take the defaults given.
type Config struct {
	Store   Store
	Runner  Runner
	Fencer  Fencer
	Members Members
	// ActionTimeout bounds an action without an op timeout. Default 20s.
	ActionTimeout time.Duration
	// FenceTimeout bounds one fencing. Default: stonith-timeout (60s).
	FenceTimeout time.Duration
	// Recheck reruns the scheduler at least this often (failure-timeout
	// expiry). Default 60s.
	Recheck time.Duration
	// ReplyGrace is how long past an action's own timeout the DC waits
	// for the node's answer (Pacemaker's cluster-delay plays this part):
	// the node's executor kills the agent at the timeout, so a later
	// reply means the node or its API hangs, and the transition must not
	// hang with it. Default 20s.
	ReplyGrace time.Duration
	Clock      func() time.Time
	Logger     *slog.Logger
}

// Controller is one DC term. Run it while this node leads.
type Controller struct {
	cfg   Config
	log   *slog.Logger
	kick  chan struct{}
	clock func() time.Time

	mu    sync.Mutex
	state State

	failures int // transitions in a row with a failed action (backoff)
	// reprobed: this term's first probe of every resource on every
	// online node is done (see round).
	reprobed bool
}

// backoff pauses after a transition in which an action failed, 0.25 s
// doubling to 8 s, so an action that keeps failing is not retried in a
// tight loop; a configuration change (the user fixing it) ends the pause.
func (c *Controller) backoff(ctx context.Context, from cib.Version) {
	c.failures++
	d := 250 * time.Millisecond << min(c.failures-1, 5)
	c.log.Warn("an action failed; pausing before the next transition", "pause", d, "failed_transitions_in_a_row", c.failures)
	deadline := time.After(d)
	changed, cancel := c.cfg.Store.Subscribe()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-c.kick:
			return
		case <-changed:
			if cur, _ := c.cfg.Store.Read(); cur.Version.Epoch != from.Epoch || cur.Version.AdminEpoch != from.AdminEpoch {
				return
			}
		}
	}
}

// State says what the DC is doing, for 'pcsctl ... --wait' and status.
type State struct {
	// Idle: the last round found nothing to do for the CIB at Version.
	Idle    bool        `json:"idle"`
	Version cib.Version `json:"cib_version"`
	// Pending lists the actions of the transition being run.
	Pending []string `json:"pending,omitempty"`
	// Blocked lists what the scheduler wants but cannot do, and why.
	Blocked []string `json:"blocked,omitempty"`
	// LastError is the last round's failure, if any.
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"`
}

// State returns the DC's current state.
func (c *Controller) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Controller) setState(s State) {
	s.Since = c.clock()
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

// New returns a controller.
func New(cfg Config) *Controller {
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = 20 * time.Second
	}
	if cfg.ReplyGrace <= 0 {
		cfg.ReplyGrace = 20 * time.Second
	}
	if cfg.FenceTimeout <= 0 {
		cfg.FenceTimeout = 60 * time.Second
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = 60 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Controller{cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1), clock: cfg.Clock}
}

// Kick asks for a new round soon (a membership change, an executor
// report). It never blocks.
func (c *Controller) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run runs rounds until ctx ends (this node stopped leading).
func (c *Controller) Run(ctx context.Context) error {
	changed, cancel := c.cfg.Store.Subscribe()
	defer cancel()
	recheck := time.NewTicker(c.recheckInterval())
	defer recheck.Stop()
	for {
		more, err := c.round(ctx, changed)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			c.log.Warn("DC round failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-c.kick:
		case <-recheck.C:
		}
		recheck.Reset(c.recheckInterval())
	}
}

// round does one pass. It returns more=true when it acted, so the caller
// recomputes at once rather than waiting for the next change.
func (c *Controller) round(ctx context.Context, changed <-chan struct{}) (bool, error) {
	if err := c.syncNodeStates(ctx); err != nil {
		return false, err
	}
	// A new DC probes everything once before its first transition: the
	// previous DC may have died between running an action and recording
	// it, so the CIB can say "stopped" where a start went through. A
	// probe waits for any operation still running on that resource, so
	// it answers with the outcome, and nothing is started twice.
	full := !c.reprobed
	n, err := c.probe(ctx, full)
	if full {
		c.reprobed = true
		if err != nil {
			// A node that cannot answer (often the old DC's, about to be
			// found lost) keeps what the CIB says of it, as before.
			c.log.Warn("new DC: could not probe every node afresh; trusting the CIB for the rest", "err", err)
			err = nil
		}
	}
	if err != nil || n > 0 {
		return n > 0, err
	}
	cur, _ := c.cfg.Store.Read()
	c.setState(State{Version: cur.Version, Pending: []string{"computing the next transition"}})
	tr, err := schedule(cur, c.clock())
	if err != nil {
		c.setState(State{Version: cur.Version, LastError: err.Error()})
		return false, fmt.Errorf("schedule: %w", err)
	}
	var blocked []string
	for _, a := range tr.Actions {
		if a.Blocked {
			blocked = append(blocked, describeBlocked(a))
		}
	}
	// Placement the scheduler would make but cannot (no fencing device,
	// no quorum) is also a reason the cluster is not where it should be.
	blocked = append(blocked, tr.Warnings...)
	if len(tr.Graph) == 0 {
		err := c.ensureMonitors(ctx, cur, tr)
		st := State{Idle: err == nil, Version: cur.Version, Blocked: blocked}
		if err != nil {
			st.LastError = err.Error()
		}
		c.setState(st)
		return false, err
	}
	var pending []string
	for _, ga := range tr.Graph {
		pending = append(pending, describe(ga))
	}
	c.setState(State{Version: cur.Version, Pending: pending, Blocked: blocked})
	c.log.Info("transition", "cib", tr.CIBVersion.String(), "actions", len(tr.Graph), "steps", fmt.Sprint(tr.Steps))
	if failed := c.execute(ctx, cur, tr); failed != nil {
		c.setState(State{Version: cur.Version, Blocked: blocked, LastError: failed.Error()})
		c.backoff(ctx, cur.Version)
	} else {
		c.failures = 0
	}
	return true, nil
}

// syncNodeStates writes what gossip says into the CIB's node states. A
// node that leaves while expected up stays expected: the scheduler then
// sees it as lost and fences it before recovering its resources.
//
// A node whose daemon restarted (a new boot in gossip) has its history
// cleared here, before this round probes or places anything: the node
// announces its restart itself too, but that may land after the DC has
// already started something there, and must then change nothing.
func (c *Controller) syncNodeStates(ctx context.Context) error {
	cur, _ := c.cfg.Store.Read()
	alive := c.cfg.Members.Alive()
	boots := c.cfg.Members.Boots()
	var cmds []store.Command
	for _, n := range cur.Config.Nodes {
		ns := cur.Status.Nodes[n.Name]
		up := alive[n.Name]
		restarted := false
		if b := boots[n.Name]; up && b != "" && (ns == nil || ns.Boot != b) {
			cmds = append(cmds, &store.ClearNodeHistory{Node: n.Name, Boot: b})
			restarted = true
		}
		switch {
		case up && (ns == nil || !ns.InCCM || !ns.Crmd || ns.Join != "member"):
			// A node (re)joining starts with no history: its executor
			// lost what it knew (or, back from a partition, may have
			// been told to stop), so it is probed again.
			if !restarted && ns != nil && len(ns.Resources) > 0 && (!ns.Crmd || ns.Join != "member") {
				cmds = append(cmds, &store.ClearNodeHistory{Node: n.Name})
			}
			cmds = append(cmds, &store.SetNodeState{Node: n.Name, InCCM: true, Crmd: true, Join: "member", Expected: "member"})
		case !up && ns != nil && (ns.InCCM || ns.Crmd):
			cmds = append(cmds, &store.SetNodeState{Node: n.Name, InCCM: false, Crmd: false, Join: "down", Expected: ns.Expected})
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	b, err := store.NewBatch(cmds...)
	if err != nil {
		return err
	}
	_, err = c.cfg.Store.Apply(ctx, b)
	return err
}

// probe runs a one-shot monitor of every primitive on every online node
// that has no record of it (of every primitive there, when all is set),
// so the scheduler never assumes "stopped" where a resource may in fact
// run. It returns how many it ran.
func (c *Controller) probe(ctx context.Context, all bool) (int, error) {
	cur, _ := c.cfg.Store.Read()
	type job struct {
		node string
		p    cib.Primitive
	}
	var jobs []job
	for _, n := range cur.Config.Nodes {
		ns := cur.Status.Nodes[n.Name]
		if ns == nil || !ns.InCCM || !ns.Crmd || ns.Join != "member" {
			continue
		}
		for _, p := range cur.Config.Primitives() {
			if p.Class == "stonith" {
				continue
			}
			if h := ns.Resources[p.ID]; all || h == nil || len(h.Ops) == 0 {
				jobs = append(jobs, job{n.Name, *p})
			}
		}
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	nodeCtx := func(string) context.Context { return ctx }
	if all {
		// A node still listed as a member may be the one just cut off
		// (often the old DC's): its probes must not hold up the fencing
		// of it, so they end as soon as gossip gives the node up. Only
		// its own: the other nodes' answers are what this probe is for.
		var nodes []string
		for _, j := range jobs {
			nodes = append(nodes, j.node)
		}
		ctxs, stop := c.untilGone(ctx, nodes)
		defer stop()
		nodeCtx = func(n string) context.Context { return ctxs[n] }
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j job) {
			defer wg.Done()
			defer func() { <-sem }()
			a := resources.Action{Primitive: j.p, Op: "monitor", Timeout: j.p.OpTimeout("monitor", 0, c.cfg.ActionTimeout)}
			errs <- c.run(nodeCtx(j.node), j.node, a)
		}(j)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return len(jobs), err
		}
	}
	return len(jobs), nil
}

// run executes one resource action and records its result.
func (c *Controller) run(ctx context.Context, node string, a resources.Action) error {
	rctx, cancel := context.WithTimeout(ctx, a.Timeout+c.cfg.ReplyGrace)
	rec, err := c.cfg.Runner.Execute(rctx, node, a)
	cancel()
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", a.Op, a.Primitive.ID, node, err)
	}
	return c.record(ctx, node, a, rec)
}

// recur starts a recurring monitor and records its first result.
func (c *Controller) recur(ctx context.Context, node string, a resources.Action) error {
	rctx, cancel := context.WithTimeout(ctx, a.Timeout+c.cfg.ReplyGrace)
	rec, err := c.cfg.Runner.Recur(rctx, node, a)
	cancel()
	if err != nil {
		return fmt.Errorf("monitor %s every %v on %s: %w", a.Primitive.ID, a.Interval, node, err)
	}
	return c.record(ctx, node, a, rec)
}

func (c *Controller) record(ctx context.Context, node string, a resources.Action, rec cib.OpRecord) error {
	failed := resources.Failed(a.Op, a.Interval, rec.RC)
	_, err := c.cfg.Store.Apply(ctx, &store.RecordOp{Node: node, Resource: a.Primitive.ID, Agent: a.Primitive.Agent(), Op: rec, Failed: failed})
	if err != nil {
		return fmt.Errorf("record %s on %s: %w", rec.ID, node, err)
	}
	if failed {
		return fmt.Errorf("%s %s on %s failed: rc %d %s", a.Op, a.Primitive.ID, node, rec.RC, rec.Output)
	}
	return nil
}

// ensureMonitors starts the recurring monitors of resources that run but
// have no record of them (a node's executor restarted, or a new DC): the
// executor replaces a monitor with the same key, so this is idempotent.
func (c *Controller) ensureMonitors(ctx context.Context, cur *cib.CIB, tr *scheduler.Transition) error {
	var names []string
	for n := range cur.Status.Nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, rs := range tr.Resources {
		p := cur.Config.Primitive(rs.ID)
		if p == nil || !rs.Managed {
			continue
		}
		if p.Class == "stonith" {
			c.monitorDevice(ctx, cur, p, rs.Current)
			continue
		}
		for _, node := range rs.Current {
			ns := cur.Status.Nodes[node]
			if ns == nil || ns.Resources[p.ID] == nil {
				continue
			}
			for _, op := range p.Ops {
				iv, err := cib.ParseDuration(op.Interval)
				if op.Name != "monitor" || err != nil || iv <= 0 {
					continue
				}
				key := fmt.Sprintf("%s_monitor_%d", p.ID, iv.Milliseconds())
				if hasOp(ns.Resources[p.ID], key) {
					continue
				}
				a := resources.Action{Primitive: *p, Op: "monitor", Interval: iv, Timeout: p.OpTimeout("monitor", iv.Milliseconds(), c.cfg.ActionTimeout)}
				if err := c.recur(ctx, node, a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func hasOp(h *cib.ResourceHistory, id string) bool {
	for _, op := range h.Ops {
		if op.ID == id {
			return true
		}
	}
	return false
}

// schedule runs the scheduler, turning a panic into an error: a bug
// triggered by one CIB must not kill every DC that reads it in turn.
func schedule(cur *cib.CIB, now time.Time) (tr *scheduler.Transition, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("scheduler failed on CIB %s: %v", cur.Version, r)
		}
	}()
	return scheduler.Schedule(scheduler.Input{CIB: cur, Quorum: true, Now: now})
}

// recheckInterval is how long an idle DC waits before it reschedules
// anyway (failure-timeout expiry): the cluster-recheck-interval property
// when it is set, else Config.Recheck.
func (c *Controller) recheckInterval() time.Duration {
	cur, _ := c.cfg.Store.Read()
	if v := cur.Config.Properties["cluster-recheck-interval"]; v != "" {
		if d, err := cib.ParseDuration(v); err == nil && d >= time.Second {
			return d
		}
	}
	return c.cfg.Recheck
}

// untilGone returns a context for each node that ends with ctx, or as
// soon as gossip no longer sees that node; stop ends them all.
func (c *Controller) untilGone(ctx context.Context, nodes []string) (ctxs map[string]context.Context, stop context.CancelFunc) {
	wctx, stop := context.WithCancel(ctx)
	ctxs = map[string]context.Context{}
	cancels := map[string]context.CancelFunc{}
	for _, n := range nodes {
		if _, ok := ctxs[n]; !ok {
			ctxs[n], cancels[n] = context.WithCancel(wctx)
		}
	}
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for len(cancels) > 0 {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			alive := c.cfg.Members.Alive()
			for n, cancel := range cancels {
				if !alive[n] {
					c.log.Info("new DC: a node left while being probed; not waiting for it", "node", n)
					cancel()
					delete(cancels, n)
				}
			}
		}
	}()
	return ctxs, stop
}
