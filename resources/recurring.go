package resources

import (
	"context"
	"fmt"
	"sync"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
)

// Recur starts a recurring monitor (a.Interval > 0): it runs the first
// monitor at once and returns its record, as Pacemaker does, then repeats
// it every interval and reports changes on Events. A monitor with the same
// key that already runs is left alone (Recur is idempotent; Cancel first
// to change it) and its latest record returned. When the agent can watch
// its resource, a watch runs beside the monitor and a failure it sees is
// reported at once.
func (e *Executor) Recur(ctx context.Context, a Action) (cib.OpRecord, error) {
	if a.Op != agents.ActionMonitor || a.Interval <= 0 {
		return cib.OpRecord{}, fmt.Errorf("recur %s %s: only monitors with an interval recur", a.Primitive.ID, a.Op)
	}
	agent, err := e.cfg.Agents.Resolve(a.Primitive.Agent(), a.Primitive.Meta)
	if err != nil {
		return cib.OpRecord{}, fmt.Errorf("recur %s: %w", a.Key(), err)
	}
	rs, err := e.state(a.Primitive.ID)
	if err != nil {
		return cib.OpRecord{}, err
	}
	e.mu.Lock()
	if _, ok := rs.recurring[a.Key()]; ok {
		for i := len(rs.history) - 1; i >= 0; i-- {
			if rs.history[i].ID == a.Key() {
				rec := rs.history[i]
				e.mu.Unlock()
				return rec, nil
			}
		}
	}
	e.mu.Unlock()
	rec, err := e.run(ctx, a, "monitor")
	if err != nil {
		return rec, err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		cancel()
		return rec, ErrClosed
	}
	if old, ok := rs.recurring[a.Key()]; ok {
		old()
	}
	rs.recurring[a.Key()] = cancel
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		e.monitorLoop(loopCtx, a)
	}()
	if w, ok := agent.(agents.Watcher); ok {
		e.startWatch(loopCtx, w, a)
	}
	return rec, nil
}

func (e *Executor) monitorLoop(ctx context.Context, a Action) {
	t := time.NewTimer(a.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := e.run(ctx, a, "monitor"); err != nil && ctx.Err() == nil {
			e.log.Warn("recurring monitor", "op", a.Key(), "err", err)
		}
		t.Reset(a.Interval)
	}
}

// startWatch runs the agent's watch until ctx ends. A watch that stops
// by itself (the agent lost its source) is restarted after a pause; the
// recurring monitor covers the gap.
func (e *Executor) startWatch(ctx context.Context, w agents.Watcher, a Action) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		req := agents.Request{Resource: a.Primitive.ID, Params: a.Primitive.Params, Meta: a.Primitive.Meta, Interval: a.Interval, Node: e.cfg.Node}
		for ctx.Err() == nil {
			ch, err := w.Watch(ctx, req)
			if err != nil {
				e.log.Warn("watch unavailable; relying on the monitor", "op", a.Key(), "err", err)
			} else {
				for ev := range ch {
					e.watched(a, ev)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

// watched records what a watching agent pushed as a result of the
// recurring monitor it stands beside, so the monitor's next identical
// result is not reported twice.
func (e *Executor) watched(a Action, ev agents.Event) {
	rs, err := e.state(a.Primitive.ID)
	if err != nil {
		return
	}
	res := agents.Result{Code: ev.Code, Status: agents.StatusDone, Reason: ev.Reason}
	at := ev.At
	if at.IsZero() {
		at = e.cfg.Clock()
	}
	rec := e.record(rs, a, res, at, at)
	e.report(rs, a, rec, "watch", ev.Reason)
}

// Cancel stops one recurring monitor (and its watch).
func (e *Executor) Cancel(id, op string, interval time.Duration) bool {
	key := Action{Primitive: cib.Primitive{ID: id}, Op: op, Interval: interval}.Key()
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, ok := e.resources[id]
	if !ok {
		return false
	}
	cancel, ok := rs.recurring[key]
	if ok {
		cancel()
		delete(rs.recurring, key)
		delete(rs.lastCode, key)
	}
	return ok
}

// CancelAll stops every recurring operation of a resource (before a stop).
func (e *Executor) CancelAll(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, ok := e.resources[id]
	if !ok {
		return
	}
	for key, cancel := range rs.recurring {
		cancel()
		delete(rs.recurring, key)
		delete(rs.lastCode, key)
	}
}

// Recurring lists the keys of running recurring operations of a resource.
func (e *Executor) Recurring(id string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, ok := e.resources[id]
	if !ok {
		return nil
	}
	var out []string
	for k := range rs.recurring {
		out = append(out, k)
	}
	return out
}

// Probe asks whether each resource already runs here (a monitor with
// interval 0), at most parallel at a time, as a node does at start-up and
// after it joins. It returns the records by resource id.
func (e *Executor) Probe(ctx context.Context, prims []cib.Primitive, parallel int) map[string]cib.OpRecord {
	if parallel <= 0 {
		parallel = 4
	}
	out := make(map[string]cib.OpRecord, len(prims))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for _, p := range prims {
		wg.Add(1)
		sem <- struct{}{}
		go func(p cib.Primitive) {
			defer wg.Done()
			defer func() { <-sem }()
			rec, err := e.run(ctx, Action{Primitive: p, Op: agents.ActionMonitor}, "probe")
			if err != nil {
				rec = cib.OpRecord{ID: p.ID + "_last_0", Operation: agents.ActionMonitor, RC: int(agents.ErrNotInstalled), Output: err.Error()}
			}
			mu.Lock()
			out[p.ID] = rec
			mu.Unlock()
		}(p)
	}
	wg.Wait()
	return out
}
