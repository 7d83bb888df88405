// Package dummy is a native, stateful test agent with the parameters and
// behaviour of ocf:pacemaker:Dummy: start creates a state file, stop
// removes it, monitor checks it. It stands in for ocf:heartbeat:Dummy and
// ocf:pacemaker:Dummy where resource-agents is not installed (the demo, CI
// without root) and gives the executor's tests a failure they can inject:
// delete the state file, and Watch reports it at once (inotify).
package dummy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
)

// DefaultStateDir is where state files go unless the state parameter or
// Options say otherwise.
const DefaultStateDir = "/run/pacer/dummy"

// Options configure the agent.
type Options struct {
	StateDir string
	// Node is this node's name, compared with fail_start_on.
	Node   string
	Name   cib.AgentName // ocf:pacemaker:Dummy by default
	Logger *slog.Logger
	Clock  agents.Clock
}

// Agent is the native Dummy.
type Agent struct {
	opts Options

	mu      sync.Mutex
	stopped map[string]bool // state files our own Stop removed
}

// New returns an agent.
func New(opts Options) *Agent {
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.Name.Type == "" {
		opts.Name = cib.AgentName{Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = agents.SystemClock{}
	}
	return &Agent{opts: opts, stopped: map[string]bool{}}
}

// Name returns the agent name.
func (a *Agent) Name() cib.AgentName { return a.opts.Name }

type config struct {
	state   string
	fake    string
	sleep   time.Duration
	failOn  string
	checkLv string
}

func (a *Agent) config(req agents.Request) (*config, error) {
	c := &config{state: req.Params["state"], fake: req.Params["fake"], failOn: req.Params["fail_start_on"],
		checkLv: req.Params["OCF_CHECK_LEVEL"]}
	if c.state == "" {
		inst := req.Resource
		if inst == "" {
			inst = "default"
		}
		c.state = filepath.Join(a.opts.StateDir, "Dummy-"+strings.ReplaceAll(inst, "/", "_")+".state")
	}
	if s := strings.TrimSpace(req.Params["op_sleep"]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("op_sleep %q is not a whole number of seconds", s)
		}
		c.sleep = time.Duration(n) * time.Second
	}
	return c, nil
}

func (a *Agent) run(ctx context.Context, req agents.Request, what string, fn func(*config) agents.Result) agents.Result {
	t0 := a.opts.Clock.Now()
	ctx, cancel, timeout := agents.OpContext(ctx, req, 20*time.Second)
	defer cancel()
	var res agents.Result
	c, err := a.config(req)
	switch {
	case err != nil && what == agents.ActionStop:
		res = agents.Done(agents.OK, "nothing to stop: %v", err)
	case err != nil:
		res = agents.Done(agents.ErrNotConfigured, "%v", err)
	default:
		res = a.sleep(ctx, c, timeout, what)
		if res.Status == agents.StatusDone {
			res = fn(c)
		}
	}
	res.Duration = a.opts.Clock.Now().Sub(t0)
	return res
}

// sleep is op_sleep: every action but stop waits that long first, so tests
// can make an agent hang past its timeout.
func (a *Agent) sleep(ctx context.Context, c *config, timeout time.Duration, what string) agents.Result {
	if c.sleep == 0 || what == agents.ActionStop {
		return agents.Result{Status: agents.StatusDone}
	}
	t := time.NewTimer(c.sleep)
	defer t.Stop()
	select {
	case <-t.C:
		return agents.Result{Status: agents.StatusDone}
	case <-ctx.Done():
		r, _ := agents.FromContext(ctx.Err(), timeout, "Dummy "+what)
		return r
	}
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// Validate checks op_sleep and that the state directory can be written.
func (a *Agent) Validate(ctx context.Context, req agents.Request) agents.Result {
	return a.run(ctx, req, agents.ActionValidate, func(c *config) agents.Result {
		dir := filepath.Dir(c.state)
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			return agents.Done(agents.ErrArgs, "state directory %s is not a directory", dir)
		}
		return agents.Done(agents.OK, "")
	})
}

// Monitor reports OK while the state file exists. OCF_CHECK_LEVEL 30
// always fails, as the Pacemaker Dummy's.
func (a *Agent) Monitor(ctx context.Context, req agents.Request) agents.Result {
	return a.run(ctx, req, agents.ActionMonitor, func(c *config) agents.Result {
		ok, err := exists(c.state)
		switch {
		case err != nil:
			return agents.Failed(agents.ErrGeneric, fmt.Errorf("check state file: %w", err))
		case !ok:
			return agents.Done(agents.NotRunning, "")
		case c.checkLv == "30":
			return agents.Done(agents.ErrGeneric, "hyperdrive quota reached")
		}
		return agents.Done(agents.OK, "")
	})
}

// Start creates the state file (holding the fake parameter); it fails on
// the node named by fail_start_on.
func (a *Agent) Start(ctx context.Context, req agents.Request) agents.Result {
	return a.run(ctx, req, agents.ActionStart, func(c *config) agents.Result {
		if c.failOn != "" && c.failOn == a.opts.Node {
			return agents.Done(agents.ErrGeneric, "fail_start_on=%s", c.failOn)
		}
		a.setStopped(c.state, false)
		if err := os.MkdirAll(filepath.Dir(c.state), 0o755); err != nil {
			return agents.Failed(agents.ErrGeneric, fmt.Errorf("create state directory: %w", err))
		}
		if err := os.WriteFile(c.state, []byte(c.fake+"\n"), 0o644); err != nil {
			return agents.Failed(agents.ErrGeneric, fmt.Errorf("write state file: %w", err))
		}
		return agents.Done(agents.OK, "")
	})
}

// Stop removes the state file; a missing one is fine.
func (a *Agent) Stop(ctx context.Context, req agents.Request) agents.Result {
	return a.run(ctx, req, agents.ActionStop, func(c *config) agents.Result {
		a.setStopped(c.state, true)
		if err := os.Remove(c.state); err != nil && !errors.Is(err, os.ErrNotExist) {
			return agents.Failed(agents.ErrGeneric, fmt.Errorf("remove state file: %w", err))
		}
		return agents.Done(agents.OK, "")
	})
}

func (a *Agent) setStopped(state string, on bool) {
	a.mu.Lock()
	a.stopped[state] = on
	a.mu.Unlock()
}

func (a *Agent) isStopped(state string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopped[state]
}

// MetaData describes the parameters of ocf:pacemaker:Dummy.
func (a *Agent) MetaData(context.Context) (*agents.MetaData, error) {
	p := func(name, typ, def, desc string) agents.Parameter {
		return agents.Parameter{Name: name, Type: typ, Default: def, ShortDesc: desc}
	}
	state := p("state", "string", filepath.Join(a.opts.StateDir, "Dummy-<resource>.state"), "State file")
	state.UniqueGroup = "state"
	act := func(name string, timeout, interval time.Duration) agents.ActionSpec {
		return agents.ActionSpec{Name: name, Timeout: timeout, Interval: interval}
	}
	return &agents.MetaData{
		Name: "Dummy", Version: "pacer-native", OCFVersion: "1.1",
		ShortDesc: "Example stateless resource agent (native)",
		LongDesc:  "Creates a state file on start, removes it on stop; monitor checks it. For tests and demos.",
		Parameters: []agents.Parameter{
			state,
			p("passwd", "string", "", "Fake password (ignored)"),
			p("fake", "string", "dummy", "Fake attribute, written to the state file"),
			p("op_sleep", "string", "0", "Seconds every action but stop sleeps first"),
			p("fail_start_on", "string", "", "Node on which start fails"),
			p("envfile", "string", "", "Ignored"),
		},
		Actions: []agents.ActionSpec{
			act("start", 20*time.Second, 0), act("stop", 20*time.Second, 0),
			act("monitor", 20*time.Second, 10*time.Second), act("reload", 20*time.Second, 0),
			act("validate-all", 20*time.Second, 0), act("meta-data", 5*time.Second, 0),
		},
	}, nil
}
