package resources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
)

// Resolver finds the agent for a primitive (agents.Registry implements it).
type Resolver interface {
	Resolve(name cib.AgentName, meta map[string]string) (agents.Agent, error)
}

// Config is the executor's setup. Zero fields take the documented defaults.
type Config struct {
	// Node is this node's name (CRM_meta_on_node).
	Node string
	// Agents resolves agent names.
	Agents Resolver
	// DefaultTimeout bounds an operation that has no timeout of its own.
	// Default 20s, Pacemaker's default op timeout.
	DefaultTimeout time.Duration
	// HistoryLen is how many records are kept per resource. Default 16.
	HistoryLen int
	// EventBuffer is the size of the Events channel. Default 256.
	EventBuffer int
	// Clock is the time source. Default time.Now.
	Clock func() time.Time
	// Logger receives one line per operation at debug, failures at warn.
	Logger *slog.Logger
	// Observer, when set, sees every finished operation, changed says
	// whether it was also sent on Events (a recurring monitor repeating
	// its last result is not). It runs on the operation's goroutine
	// after the executor's lock is released, and must not block.
	Observer func(ev Event, changed bool)
}

// Action is one operation to run.
type Action struct {
	// Primitive is the resource's configuration (agent, params, meta).
	Primitive cib.Primitive
	// Op is start, stop, monitor, validate-all, ...
	Op string
	// Interval > 0 makes a monitor recurring (Recur); 0 for one-shot.
	Interval time.Duration
	// Timeout bounds the operation; 0 takes Config.DefaultTimeout.
	Timeout time.Duration
}

// Key names a recurring operation, as Pacemaker's op key (vip_monitor_10000).
func (a Action) Key() string {
	return fmt.Sprintf("%s_%s_%d", a.Primitive.ID, a.Op, a.Interval.Milliseconds())
}

// Event reports a change: an operation whose result differs from the
// previous one of the same key, or a failure pushed by a watching agent.
type Event struct {
	Resource string
	// Agent is the agent the operation ran: the node's copy of the CIB
	// may not have the resource yet when the DC's request arrives.
	Agent  cib.AgentName
	Node   string
	Record cib.OpRecord
	// Source is "operation", "monitor" (a recurring monitor) or "watch".
	Source string
	Reason string
}

// Executor runs operations on this node.
type Executor struct {
	cfg Config
	log *slog.Logger

	events chan Event

	mu        sync.Mutex
	callID    int64
	resources map[string]*resourceState
	closed    bool
	wg        sync.WaitGroup
}

// resourceState serialises operations on one resource and holds what the
// executor knows of it.
type resourceState struct {
	lock      chan struct{} // one operation at a time (a mutex whose wait is cancellable)
	history   []cib.OpRecord
	lastCode  map[string]int // op key -> last rc, to report only changes
	failCount map[string]int // "op_interval" -> count
	recurring map[string]context.CancelFunc
	active    bool // last start/stop/probe says running
	agent     cib.AgentName
}

// New returns an executor. Close stops its recurring monitors.
func New(cfg Config) *Executor {
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = 20 * time.Second
	}
	if cfg.HistoryLen <= 0 {
		cfg.HistoryLen = 16
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 256
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Executor{cfg: cfg, log: cfg.Logger, events: make(chan Event, cfg.EventBuffer), resources: map[string]*resourceState{}}
}

// Events delivers changes. It is closed by Close.
func (e *Executor) Events() <-chan Event { return e.events }

// ErrClosed is returned after Close.
var ErrClosed = errors.New("resources: executor closed")

func (e *Executor) state(id string) (*resourceState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	rs, ok := e.resources[id]
	if !ok {
		rs = &resourceState{lock: make(chan struct{}, 1), lastCode: map[string]int{}, failCount: map[string]int{}, recurring: map[string]context.CancelFunc{}}
		e.resources[id] = rs
	}
	return rs, nil
}

// Execute runs one operation and returns its record. Operations on the
// same resource wait for each other (queue time is recorded); the wait
// ends early when ctx does.
func (e *Executor) Execute(ctx context.Context, a Action) (cib.OpRecord, error) {
	return e.run(ctx, a, "operation")
}

func (e *Executor) run(ctx context.Context, a Action, source string) (cib.OpRecord, error) {
	rs, err := e.state(a.Primitive.ID)
	if err != nil {
		return cib.OpRecord{}, err
	}
	agent, err := e.cfg.Agents.Resolve(a.Primitive.Agent(), a.Primitive.Meta)
	if err != nil {
		// As in Pacemaker, an agent this node does not have is a result
		// (rc 5, not installed) that keeps the resource off this node,
		// not an error of the executor.
		now := e.cfg.Clock()
		res := agents.Result{Code: agents.ErrNotInstalled, Status: agents.StatusNotInstalled, Reason: err.Error()}
		rec := e.record(rs, a, res, now, now)
		e.report(rs, a, rec, source, res.Reason)
		return rec, nil
	}
	if a.Op == agents.ActionStop {
		// Recurring monitors end before a stop, as in Pacemaker: they
		// would report the stopped resource as failed.
		e.CancelAll(a.Primitive.ID)
	}
	queued := e.cfg.Clock()
	select {
	case rs.lock <- struct{}{}:
	case <-ctx.Done():
		return cib.OpRecord{}, fmt.Errorf("%s %s on %s: waiting for the previous operation: %w", a.Op, a.Primitive.ID, e.cfg.Node, ctx.Err())
	}
	started := e.cfg.Clock()
	res := e.call(ctx, agent, a)
	<-rs.lock
	rec := e.record(rs, a, res, queued, started)
	e.log.Debug("operation", "rsc", a.Primitive.ID, "op", a.Op, "interval", a.Interval, "rc", rec.RC, "status", res.Status.String(), "exec_ms", rec.ExecTimeMS)
	if rec.RC != int(agents.OK) && !(a.Op == agents.ActionMonitor && rec.RC == int(agents.NotRunning)) {
		e.log.Warn("operation failed", "rsc", a.Primitive.ID, "op", a.Op, "rc", rec.RC, "status", res.Status.String(), "reason", res.Reason)
	}
	e.report(rs, a, rec, source, res.Reason)
	return rec, nil
}

func (e *Executor) call(ctx context.Context, agent agents.Agent, a Action) agents.Result {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = e.cfg.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := agents.Request{Resource: a.Primitive.ID, Params: a.Primitive.Params, Meta: a.Primitive.Meta, Interval: a.Interval, Timeout: timeout, Node: e.cfg.Node}
	switch a.Op {
	case agents.ActionStart:
		return agent.Start(ctx, req)
	case agents.ActionStop:
		return agent.Stop(ctx, req)
	case agents.ActionMonitor:
		return agent.Monitor(ctx, req)
	case agents.ActionValidate:
		return agent.Validate(ctx, req)
	}
	if ac, ok := agent.(agents.Actioner); ok {
		return ac.Run(ctx, a.Op, req)
	}
	return agents.Result{Code: agents.ErrUnimplemented, Status: agents.StatusDone, Reason: fmt.Sprintf("agent %s has no %s action", agent.Name(), a.Op)}
}

// record turns a result into an op history entry and updates the
// resource's state. rc is the agent's code, except that a timed-out or
// unrunnable operation is a generic error, as Pacemaker records it.
func (e *Executor) record(rs *resourceState, a Action, res agents.Result, queued, started time.Time) cib.OpRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.callID++
	now := e.cfg.Clock()
	rc := int(res.Code)
	if res.Status == agents.StatusTimeout || res.Status == agents.StatusCancelled {
		rc = int(agents.ErrGeneric)
	}
	rec := cib.OpRecord{
		ID:          a.Key(),
		Operation:   a.Op,
		IntervalMS:  a.Interval.Milliseconds(),
		CallID:      e.callID,
		RC:          rc,
		OpStatus:    opStatus(res.Status),
		ExecTimeMS:  res.Duration.Milliseconds(),
		QueueTimeMS: started.Sub(queued).Milliseconds(),
		LastRun:     now,
		Output:      tail(res.Reason, res.Output, res.Stderr),
	}
	if a.Interval == 0 {
		rec.ID = a.Primitive.ID + "_last_0"
	}
	prev, seen := rs.lastCode[a.Key()]
	rec.LastRCChange = now
	if seen && prev == rc {
		for i := len(rs.history) - 1; i >= 0; i-- {
			if rs.history[i].ID == rec.ID && rs.history[i].RC == rc {
				rec.LastRCChange = rs.history[i].LastRCChange
				break
			}
		}
	}
	rs.agent = a.Primitive.Agent()
	switch {
	case a.Op == agents.ActionStart && rc == int(agents.OK):
		rs.active = true
	case a.Op == agents.ActionStop && rc == int(agents.OK):
		rs.active = false
	case a.Op == agents.ActionMonitor && rc == int(agents.OK):
		rs.active = true
	case a.Op == agents.ActionMonitor && rc == int(agents.NotRunning):
		rs.active = false
	}
	if Failed(a.Op, a.Interval, rc) {
		rs.failCount[fmt.Sprintf("%s_%d", a.Op, a.Interval.Milliseconds())]++
	}
	rs.history = append(rs.history, rec)
	if len(rs.history) > e.cfg.HistoryLen {
		rs.history = rs.history[len(rs.history)-e.cfg.HistoryLen:]
	}
	return rec
}

// Failed says whether a result counts as a failure (and so raises the
// fail count). A probe or a one-shot monitor returning "not running"
// answers a question, as does a stop of something already stopped; a
// recurring monitor returning it means the resource died.
func Failed(op string, interval time.Duration, rc int) bool {
	switch {
	case rc == int(agents.OK):
		return false
	case op == agents.ActionMonitor && rc == int(agents.NotRunning):
		return interval > 0
	case op == agents.ActionStop && rc == int(agents.NotRunning):
		return false
	}
	return true
}

// RecordFailed says whether a recorded result is a failure: not the
// result the operation was run for, and a failure by Failed's rule.
func RecordFailed(op cib.OpRecord) bool {
	return op.RC != op.Expected() && Failed(op.Operation, time.Duration(op.IntervalMS)*time.Millisecond, op.RC)
}

// report sends an event when the result differs from the last one of the
// same key (always for one-shot operations).
func (e *Executor) report(rs *resourceState, a Action, rec cib.OpRecord, source, reason string) {
	e.mu.Lock()
	prev, seen := rs.lastCode[a.Key()]
	rs.lastCode[a.Key()] = rec.RC
	changed := !(a.Interval > 0 && seen && prev == rec.RC)
	ev := Event{Resource: a.Primitive.ID, Agent: a.Primitive.Agent(), Node: e.cfg.Node, Record: rec, Source: source, Reason: reason}
	if changed {
		e.emit(ev)
	}
	e.mu.Unlock()
	if e.cfg.Observer != nil {
		e.cfg.Observer(ev, changed)
	}
}

// emit never blocks the executor: when the consumer lags, the oldest
// event is dropped (the history still has it) and a warning logged. The
// caller holds e.mu, so Close cannot close the channel underneath.
func (e *Executor) emit(ev Event) {
	if e.closed {
		return
	}
	for {
		select {
		case e.events <- ev:
			return
		default:
		}
		select {
		case old := <-e.events:
			e.log.Warn("event buffer full: dropped the oldest event", "rsc", old.Resource, "op", old.Record.Operation)
		default:
		}
	}
}

func opStatus(s agents.Status) int {
	// Pacemaker's PCMK_EXEC_* numbering: done 0, pending -1, cancelled 1,
	// timeout 2, not supported 3, error 4, error hard 5, error fatal 6,
	// not installed 7.
	switch s {
	case agents.StatusDone:
		return 0
	case agents.StatusPending:
		return -1
	case agents.StatusCancelled:
		return 1
	case agents.StatusTimeout:
		return 2
	case agents.StatusNotInstalled:
		return 7
	}
	return 4
}

func tail(parts ...string) string {
	var out string
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += "\n"
		}
		out += p
	}
	const max = 2048
	if len(out) > max {
		out = "..." + out[len(out)-max:]
	}
	return out
}

// History returns the resource's records, oldest first.
func (e *Executor) History(id string) []cib.OpRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, ok := e.resources[id]
	if !ok {
		return nil
	}
	return append([]cib.OpRecord(nil), rs.history...)
}

// FailCounts returns the failures per "op_intervalms" of a resource.
func (e *Executor) FailCounts(id string) map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	if rs, ok := e.resources[id]; ok {
		for k, v := range rs.failCount {
			out[k] = v
		}
	}
	return out
}

// Cleanup forgets a resource's fail counts and history ('pcsctl resource
// cleanup'), so the next monitor result is reported again.
func (e *Executor) Cleanup(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rs, ok := e.resources[id]; ok {
		rs.failCount = map[string]int{}
		rs.lastCode = map[string]int{}
		rs.history = nil
	}
}

// Active lists the resources this executor last saw running, sorted.
func (e *Executor) Active() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for id, rs := range e.resources {
		if rs.active {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Close cancels every recurring monitor and watch, waits for them, and
// closes Events.
func (e *Executor) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	for _, rs := range e.resources {
		for _, cancel := range rs.recurring {
			cancel()
		}
	}
	e.mu.Unlock()
	e.wg.Wait()
	close(e.events)
}
