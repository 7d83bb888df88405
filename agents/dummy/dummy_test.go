package dummy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pacer/agents"
)

func newAgent(t *testing.T) (*Agent, agents.Request) {
	a := New(Options{StateDir: t.TempDir(), Node: "node1"})
	return a, agents.Request{Resource: "d1", Params: map[string]string{"fake": "hello"}, Timeout: 5 * time.Second}
}

func must(t *testing.T, what string, r agents.Result, code agents.Code, status agents.Status) {
	t.Helper()
	if r.Code != code || r.Status != status {
		t.Fatalf("%s: got %s, want %s (%s)", what, r, code, status)
	}
}

func TestLifecycle(t *testing.T) {
	a, req := newAgent(t)
	ctx := context.Background()
	must(t, "probe", a.Monitor(ctx, req), agents.NotRunning, agents.StatusDone)
	must(t, "start", a.Start(ctx, req), agents.OK, agents.StatusDone)
	b, err := os.ReadFile(filepath.Join(a.opts.StateDir, "Dummy-d1.state"))
	if err != nil || string(b) != "hello\n" {
		t.Fatalf("state file %q %v", b, err)
	}
	must(t, "start again", a.Start(ctx, req), agents.OK, agents.StatusDone)
	must(t, "monitor", a.Monitor(ctx, req), agents.OK, agents.StatusDone)
	must(t, "stop", a.Stop(ctx, req), agents.OK, agents.StatusDone)
	must(t, "stop again", a.Stop(ctx, req), agents.OK, agents.StatusDone)
	must(t, "monitor", a.Monitor(ctx, req), agents.NotRunning, agents.StatusDone)
	req.Params["OCF_CHECK_LEVEL"] = "30"
	must(t, "start", a.Start(ctx, req), agents.OK, agents.StatusDone)
	must(t, "monitor level 30", a.Monitor(ctx, req), agents.ErrGeneric, agents.StatusDone)
}

func TestFailuresAndTimeouts(t *testing.T) {
	a, req := newAgent(t)
	ctx := context.Background()
	req.Params["fail_start_on"] = "node1"
	must(t, "fail_start_on", a.Start(ctx, req), agents.ErrGeneric, agents.StatusDone)
	delete(req.Params, "fail_start_on")
	req.Params["op_sleep"] = "x"
	must(t, "bad op_sleep", a.Validate(ctx, req), agents.ErrNotConfigured, agents.StatusDone)
	must(t, "stop with bad op_sleep", a.Stop(ctx, req), agents.OK, agents.StatusDone)
	req.Params["op_sleep"] = "10"
	req.Timeout = 100 * time.Millisecond
	r := a.Start(ctx, req)
	must(t, "hung start", r, agents.ErrGeneric, agents.StatusTimeout)
	if r.Duration > 2*time.Second {
		t.Errorf("timed out after %s", r.Duration)
	}
	must(t, "stop does not sleep", a.Stop(ctx, req), agents.OK, agents.StatusDone)
}

func TestWatch(t *testing.T) {
	a, req := newAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, "start", a.Start(ctx, req), agents.OK, agents.StatusDone)
	events, err := a.Watch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	next := func() agents.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return agents.Event{}
	}
	if err := os.Remove(filepath.Join(a.opts.StateDir, "Dummy-d1.state")); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Code != agents.NotRunning || ev.Resource != "d1" {
		t.Fatalf("event %+v", ev)
	}
	must(t, "start", a.Start(ctx, req), agents.OK, agents.StatusDone)
	if ev := next(); ev.Code != agents.OK {
		t.Fatalf("event %+v", ev)
	}
	must(t, "stop", a.Stop(ctx, req), agents.OK, agents.StatusDone)
	select {
	case ev := <-events:
		t.Fatalf("own stop reported: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	for range events {
	}
}
