package resources

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
)

// fakeAgent is an in-memory agent for the executor's own logic: it
// returns scripted monitor codes, can hang until its deadline, and counts
// overlapping calls.
type fakeAgent struct {
	mu       sync.Mutex
	monitor  []agents.Code // codes returned by successive monitors; the last repeats
	calls    int
	inFlight int
	maxIn    int
	hang     bool
	delay    time.Duration
	watch    chan agents.Event
}

func (f *fakeAgent) Name() cib.AgentName {
	return cib.AgentName{Class: "ocf", Provider: "test", Type: "Fake"}
}
func (f *fakeAgent) MetaData(context.Context) (*agents.MetaData, error) {
	return &agents.MetaData{}, nil
}

func (f *fakeAgent) op(ctx context.Context, code func() agents.Code) agents.Result {
	f.mu.Lock()
	f.calls++
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	hang, delay := f.hang, f.delay
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	start := time.Now()
	if hang {
		<-ctx.Done()
		return agents.Result{Code: agents.ErrGeneric, Status: agents.StatusTimeout, Reason: "hung", Duration: time.Since(start)}
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	return agents.Result{Code: code(), Status: agents.StatusDone, Duration: time.Since(start)}
}

func ok() agents.Code { return agents.OK }

func (f *fakeAgent) Validate(ctx context.Context, r agents.Request) agents.Result {
	return f.op(ctx, ok)
}
func (f *fakeAgent) Start(ctx context.Context, r agents.Request) agents.Result { return f.op(ctx, ok) }
func (f *fakeAgent) Stop(ctx context.Context, r agents.Request) agents.Result  { return f.op(ctx, ok) }
func (f *fakeAgent) Monitor(ctx context.Context, r agents.Request) agents.Result {
	return f.op(ctx, func() agents.Code {
		f.mu.Lock()
		defer f.mu.Unlock()
		c := f.monitor[0]
		if len(f.monitor) > 1 {
			f.monitor = f.monitor[1:]
		}
		return c
	})
}

type watchingAgent struct{ *fakeAgent }

func (w watchingAgent) Watch(ctx context.Context, r agents.Request) (<-chan agents.Event, error) {
	out := make(chan agents.Event)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-w.watch:
				out <- ev
			}
		}
	}()
	return out, nil
}

type resolver struct{ a agents.Agent }

func (r resolver) Resolve(cib.AgentName, map[string]string) (agents.Agent, error) { return r.a, nil }

func prim(id string) cib.Primitive {
	return cib.Primitive{ID: id, Class: "ocf", Provider: "test", Type: "Fake"}
}

func drain(ch <-chan Event) []Event {
	var out []Event
	for {
		select {
		case ev := <-ch:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestExecuteRecordsHistory(t *testing.T) {
	f := &fakeAgent{monitor: []agents.Code{agents.OK}}
	e := New(Config{Node: "n1", Agents: resolver{f}})
	defer e.Close()
	ctx := context.Background()
	start, err := e.Execute(ctx, Action{Primitive: prim("a"), Op: "start"})
	if err != nil || start.RC != 0 || start.ID != "a_last_0" {
		t.Fatalf("start: %+v %v", start, err)
	}
	if got := e.Active(); len(got) != 1 || got[0] != "a" {
		t.Errorf("active %v", got)
	}
	stop, _ := e.Execute(ctx, Action{Primitive: prim("a"), Op: "stop"})
	if stop.CallID <= start.CallID {
		t.Errorf("call ids %d then %d", start.CallID, stop.CallID)
	}
	if len(e.Active()) != 0 || len(e.History("a")) != 2 {
		t.Errorf("after stop: active %v history %d", e.Active(), len(e.History("a")))
	}
	evs := drain(e.Events())
	if len(evs) != 2 || evs[0].Record.Operation != "start" || evs[1].Record.Operation != "stop" || evs[0].Node != "n1" || evs[0].Agent.Type != f.Name().Type {
		t.Errorf("events %+v", evs)
	}
}

// Operations on one resource never overlap; queue time is recorded.
func TestOperationsSerialisedPerResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAgent{monitor: []agents.Code{agents.OK}, delay: 100 * time.Millisecond}
		e := New(Config{Agents: resolver{f}})
		defer e.Close()
		var wg sync.WaitGroup
		recs := make([]cib.OpRecord, 3)
		for i := range recs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs[i], _ = e.Execute(context.Background(), Action{Primitive: prim("a"), Op: "monitor"})
			}()
		}
		wg.Wait()
		if f.maxIn != 1 {
			t.Errorf("%d operations ran at once on one resource", f.maxIn)
		}
		var queued int64
		for _, r := range recs {
			queued += r.QueueTimeMS
		}
		if queued != 300 { // 0 + 100 + 200
			t.Errorf("total queue time %d ms, want 300", queued)
		}
	})
}

// A hanging agent is stopped at its timeout and recorded as a timed-out
// failure.
func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAgent{hang: true}
		e := New(Config{Agents: resolver{f}})
		defer e.Close()
		rec, err := e.Execute(context.Background(), Action{Primitive: prim("a"), Op: "start", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if rec.RC != int(agents.ErrGeneric) || rec.OpStatus != 2 || rec.ExecTimeMS != 5000 {
			t.Errorf("timed-out start recorded as %+v", rec)
		}
		if fc := e.FailCounts("a"); fc["start_0"] != 1 {
			t.Errorf("fail counts %v", fc)
		}
	})
}

// A recurring monitor reports its first result and then only changes;
// failures of it count.
func TestRecurringReportsOnlyChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAgent{monitor: []agents.Code{agents.OK, agents.OK, agents.OK, agents.NotRunning, agents.NotRunning, agents.OK}}
		e := New(Config{Agents: resolver{f}})
		first, err := e.Recur(context.Background(), Action{Primitive: prim("a"), Op: "monitor", Interval: 10 * time.Second})
		if err != nil || first.RC != 0 || first.ID != "a_monitor_10000" {
			t.Fatalf("first monitor %+v %v", first, err)
		}
		// Idempotent: a second Recur neither runs nor restarts it.
		if again, err := e.Recur(context.Background(), Action{Primitive: prim("a"), Op: "monitor", Interval: 10 * time.Second}); err != nil || again.CallID != first.CallID {
			t.Fatalf("second Recur ran a monitor: %+v %v", again, err)
		}
		time.Sleep(55 * time.Second)
		synctest.Wait()
		var codes []int
		for _, ev := range drain(e.Events()) {
			codes = append(codes, ev.Record.RC)
			if ev.Source != "monitor" || ev.Record.ID != "a_monitor_10000" {
				t.Errorf("event %+v", ev)
			}
		}
		if len(codes) != 3 || codes[0] != 0 || codes[1] != 7 || codes[2] != 0 {
			t.Errorf("reported codes %v, want [0 7 0]", codes)
		}
		if fc := e.FailCounts("a"); fc["monitor_10000"] != 2 {
			t.Errorf("fail counts %v", fc)
		}
		if !e.Cancel("a", "monitor", 10*time.Second) {
			t.Error("cancel found no monitor")
		}
		calls := f.calls
		time.Sleep(60 * time.Second)
		if f.calls != calls {
			t.Errorf("monitor ran %d more times after cancel", f.calls-calls)
		}
		e.Close()
		if _, open := <-e.Events(); open {
			t.Error("events still open after Close")
		}
	})
}

// A watching agent's failure is reported at once, and the monitor that
// then sees the same thing does not report it again.
func TestWatchReportsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAgent{monitor: []agents.Code{agents.OK, agents.NotRunning}, watch: make(chan agents.Event)}
		e := New(Config{Agents: resolver{watchingAgent{f}}})
		defer e.Close()
		a := Action{Primitive: prim("vip"), Op: "monitor", Interval: 30 * time.Second}
		if _, err := e.Recur(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // first monitor ran at once: OK
		synctest.Wait()
		drain(e.Events())
		f.watch <- agents.Event{Resource: "vip", Code: agents.NotRunning, Reason: "address removed", At: time.Now()}
		synctest.Wait()
		evs := drain(e.Events())
		if len(evs) != 1 || evs[0].Source != "watch" || evs[0].Record.RC != 7 || evs[0].Reason != "address removed" {
			t.Fatalf("after the watch event: %+v", evs)
		}
		time.Sleep(30 * time.Second) // the next monitor sees 7 too
		synctest.Wait()
		if evs := drain(e.Events()); len(evs) != 0 {
			t.Errorf("monitor reported the same failure again: %+v", evs)
		}
	})
}

type noAgents struct{}

func (noAgents) Resolve(n cib.AgentName, _ map[string]string) (agents.Agent, error) {
	return nil, fmt.Errorf("agent %s is not installed here", n)
}

// A missing agent is a result (rc 5), which keeps the resource off this
// node, not an executor error.
func TestMissingAgentIsNotInstalled(t *testing.T) {
	e := New(Config{Agents: noAgents{}})
	defer e.Close()
	rec, err := e.Execute(context.Background(), Action{Primitive: prim("a"), Op: "monitor"})
	if err != nil || rec.RC != int(agents.ErrNotInstalled) || rec.OpStatus != 7 {
		t.Fatalf("probe with no agent: %+v %v", rec, err)
	}
}

func TestProbe(t *testing.T) {
	f := &fakeAgent{monitor: []agents.Code{agents.NotRunning}}
	e := New(Config{Agents: resolver{f}})
	defer e.Close()
	got := e.Probe(context.Background(), []cib.Primitive{prim("a"), prim("b"), prim("c")}, 2)
	if len(got) != 3 || got["b"].RC != 7 || got["b"].Operation != "monitor" || got["b"].IntervalMS != 0 {
		t.Errorf("probe results %+v", got)
	}
	if fc := e.FailCounts("a"); len(fc) != 0 {
		t.Errorf("a probe finding nothing is not a failure: %v", fc)
	}
}
