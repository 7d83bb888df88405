package systemd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"pacer/agents"
	"pacer/crm/cib"
)

// Agent is one unit. It implements agents.Agent and agents.Watcher.
type Agent struct {
	m     *Manager
	given string // as configured: "haproxy"
	unit  string // "haproxy.service"
}

// Name returns systemd:NAME as configured.
func (a *Agent) Name() cib.AgentName { return cib.AgentName{Class: "systemd", Type: a.given} }

// Unit returns the full unit name.
func (a *Agent) Unit() string { return a.unit }

func (a *Agent) op(ctx context.Context, req agents.Request, what string, fn func(context.Context, *sddbus.Conn) agents.Result) agents.Result {
	t0 := a.m.opts.Clock.Now()
	ctx, cancel, timeout := agents.OpContext(ctx, req, a.m.opts.DefaultTimeout)
	defer cancel()
	var res agents.Result
	if c, err := a.m.connection(ctx); err != nil {
		res = agents.Failed(agents.ErrGeneric, err)
	} else {
		res = fn(ctx, c)
		if r, ok := agents.FromContext(ctx.Err(), timeout, a.unit+" "+what); ok && res.Status != agents.StatusDone {
			res.Code, res.Status, res.Reason = r.Code, r.Status, r.Reason
		}
	}
	res.Duration = a.m.opts.Clock.Now().Sub(t0)
	lvl := slog.LevelDebug
	if res.Code != agents.OK && !(what == agents.ActionMonitor && res.Code == agents.NotRunning) {
		lvl = slog.LevelInfo
	}
	a.m.opts.Logger.Log(ctx, lvl, "systemd action", "unit", a.unit, "resource", req.Resource,
		"action", what, "rc", int(res.Code), "status", res.Status.String(), "took", res.Duration, "reason", res.Reason)
	return res
}

// unitState is what monitor and watch look at.
type unitState struct {
	Load, Active, Sub string
}

func (s unitState) String() string {
	return fmt.Sprintf("LoadState=%s ActiveState=%s SubState=%s", s.Load, s.Active, s.Sub)
}

func (a *Agent) state(ctx context.Context, c *sddbus.Conn) (unitState, error) {
	list, err := c.ListUnitsByNamesContext(ctx, []string{a.unit})
	if err != nil {
		return unitState{}, fmt.Errorf("get state of %s: %w", a.unit, err)
	}
	if len(list) == 0 {
		return unitState{Load: "not-found", Active: "inactive", Sub: "dead"}, nil
	}
	return unitState{Load: list[0].LoadState, Active: list[0].ActiveState, Sub: list[0].SubState}, nil
}

// code maps a unit state to what a monitor returns, as Pacemaker's
// parse_status_result does: active and reloading run; activating and
// deactivating are pending (ask again); anything else is not running. A
// unit waiting to be restarted by systemd (SubState auto-restart) has
// failed.
func (s unitState) code() (agents.Code, agents.Status) {
	switch {
	case s.Active == "active" || s.Active == "reloading":
		return agents.OK, agents.StatusDone
	case s.Sub == "auto-restart":
		return agents.NotRunning, agents.StatusDone
	case s.Active == "activating" || s.Active == "deactivating":
		return agents.Unknown, agents.StatusPending
	default:
		return agents.NotRunning, agents.StatusDone
	}
}

// Validate checks that systemd knows the unit.
func (a *Agent) Validate(ctx context.Context, req agents.Request) agents.Result {
	return a.op(ctx, req, agents.ActionValidate, func(ctx context.Context, c *sddbus.Conn) agents.Result {
		st, err := a.state(ctx, c)
		if err != nil {
			return agents.Failed(agents.ErrGeneric, err)
		}
		if st.Load == "not-found" {
			return agents.Done(agents.ErrNotInstalled, "systemd unit %s not found", a.unit)
		}
		return agents.Done(agents.OK, "")
	})
}

// Monitor reports the unit's state.
func (a *Agent) Monitor(ctx context.Context, req agents.Request) agents.Result {
	return a.op(ctx, req, agents.ActionMonitor, func(ctx context.Context, c *sddbus.Conn) agents.Result {
		st, err := a.state(ctx, c)
		if err != nil {
			return agents.Failed(agents.ErrGeneric, err)
		}
		code, status := st.code()
		r := agents.Result{Code: code, Status: status}
		if code != agents.OK {
			r.Reason = st.String()
			if st.Load == "not-found" {
				r.Reason = fmt.Sprintf("systemd unit %s not found", a.unit)
			}
		}
		return r
	})
}

// Start writes the Restart=no drop-in, resets the unit's failed state
// (and so systemd's start rate limit: restarts are the cluster's
// decision), starts it and waits for the job.
func (a *Agent) Start(ctx context.Context, req agents.Request) agents.Result {
	return a.op(ctx, req, agents.ActionStart, func(ctx context.Context, c *sddbus.Conn) agents.Result {
		st, err := a.state(ctx, c)
		if err != nil {
			return agents.Failed(agents.ErrGeneric, err)
		}
		switch st.Load {
		case "not-found":
			return agents.Done(agents.ErrNotInstalled, "systemd unit %s not found", a.unit)
		case "masked":
			return agents.Done(agents.ErrNotInstalled, "systemd unit %s is masked", a.unit)
		}
		changed, err := writeDropIn(a.m.opts.DropInDir, a.unit)
		if err != nil {
			return agents.Failed(agents.ErrGeneric, err)
		}
		if changed {
			if err := c.ReloadContext(ctx); err != nil {
				return agents.Failed(agents.ErrGeneric, fmt.Errorf("daemon-reload after writing the drop-in: %w", err))
			}
		}
		a.m.setWanted(a.unit, true)
		if st.Active == "failed" {
			_ = c.ResetFailedUnitContext(ctx, a.unit)
		}
		res := a.job(ctx, c, "start", c.StartUnitContext)
		if res.Status != agents.StatusDone || res.Code != agents.OK {
			return res
		}
		st, err = a.state(ctx, c)
		if err != nil {
			return agents.Failed(agents.ErrGeneric, err)
		}
		res.Output += st.String() + "\n"
		if code, _ := st.code(); code != agents.OK {
			res.Code, res.Reason = agents.ErrGeneric, fmt.Sprintf("%s not active after its start job: %s", a.unit, st)
		}
		return res
	})
}

// Stop removes the drop-in, stops the unit, waits for the job and resets
// a failed state, so the unit ends inactive. Stopping a unit systemd does
// not know succeeds.
func (a *Agent) Stop(ctx context.Context, req agents.Request) agents.Result {
	return a.op(ctx, req, agents.ActionStop, func(ctx context.Context, c *sddbus.Conn) agents.Result {
		a.m.setWanted(a.unit, false)
		removed, err := false, error(nil)
		if !a.m.opts.KeepDropIn {
			removed, err = removeDropIn(a.m.opts.DropInDir, a.unit)
		}
		if err != nil {
			a.m.opts.Logger.Warn("cannot remove systemd drop-in", "unit", a.unit, "err", err)
		}
		if removed {
			if err := c.ReloadContext(ctx); err != nil {
				return agents.Failed(agents.ErrGeneric, fmt.Errorf("daemon-reload after removing the drop-in: %w", err))
			}
		}
		res := a.job(ctx, c, "stop", c.StopUnitContext)
		if res.Code == agents.ErrNotInstalled {
			return agents.Done(agents.OK, "systemd unit %s not found: nothing to stop", a.unit)
		}
		if res.Succeeded() {
			_ = c.ResetFailedUnitContext(ctx, a.unit)
		}
		return res
	})
}

type jobFunc func(ctx context.Context, name, mode string, ch chan<- string) (int, error)

// job runs a start or stop job and waits for its JobRemoved result.
func (a *Agent) job(ctx context.Context, c *sddbus.Conn, what string, fn jobFunc) agents.Result {
	t0 := time.Now()
	done := make(chan string, 1)
	if _, err := fn(ctx, a.unit, "replace", done); err != nil {
		return methodError(a.unit, what, err)
	}
	select {
	case result := <-done:
		out := fmt.Sprintf("%s job for %s: %s in %s\n", what, a.unit, result, time.Since(t0).Round(time.Microsecond))
		switch result {
		case "done":
			return agents.Result{Code: agents.OK, Status: agents.StatusDone, Output: out}
		case "timeout":
			return agents.Result{Code: agents.ErrGeneric, Status: agents.StatusTimeout, Output: out,
				Reason: fmt.Sprintf("systemd %s job for %s timed out", what, a.unit)}
		default:
			return agents.Result{Code: agents.ErrGeneric, Status: agents.StatusDone, Output: out,
				Reason: fmt.Sprintf("systemd %s job for %s failed with result '%s'", what, a.unit, result)}
		}
	case <-ctx.Done():
		return agents.Result{Code: agents.ErrGeneric, Status: agents.StatusTimeout,
			Reason: fmt.Sprintf("systemd %s job for %s did not complete in time", what, a.unit)}
	}
}

// methodError maps a D-Bus error of StartUnit/StopUnit as Pacemaker's
// set_result_from_method_error does.
func methodError(unit, what string, err error) agents.Result {
	var de dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		case "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.LoadFailed",
			"org.freedesktop.systemd1.InvalidName":
			return agents.Done(agents.ErrNotInstalled, "systemd unit %s not found", unit)
		case "org.freedesktop.systemd1.UnitMasked":
			return agents.Done(agents.ErrNotInstalled, "systemd unit %s is masked", unit)
		}
		return agents.Failed(agents.ErrGeneric, fmt.Errorf("systemd %s of %s: %s: %s", what, unit, de.Name, strings.Join(errorBody(de), "; ")))
	}
	return agents.Failed(agents.ErrGeneric, fmt.Errorf("systemd %s of %s: %w", what, unit, err))
}

func errorBody(de dbus.Error) []string {
	var s []string
	for _, b := range de.Body {
		s = append(s, fmt.Sprint(b))
	}
	return s
}

// MetaData is what Pacemaker shows for a systemd unit.
func (a *Agent) MetaData(ctx context.Context) (*agents.MetaData, error) {
	desc := "systemd unit file for " + a.given
	if c, err := a.m.connection(ctx); err == nil {
		if p, err := c.GetUnitPropertyContext(ctx, a.unit, "Description"); err == nil {
			if s, ok := p.Value.Value().(string); ok && s != "" {
				desc = s
			}
		}
	}
	act := func(name string, timeout, interval time.Duration) agents.ActionSpec {
		return agents.ActionSpec{Name: name, Timeout: timeout, Interval: interval}
	}
	return &agents.MetaData{
		Name: a.given, Version: "1.0", OCFVersion: "1.1",
		ShortDesc: "systemd unit file for " + a.given, LongDesc: desc,
		Actions: []agents.ActionSpec{
			act("start", 100*time.Second, 0), act("stop", 100*time.Second, 0),
			act("status", 100*time.Second, 0), act("monitor", 100*time.Second, 60*time.Second),
			act("meta-data", 5*time.Second, 0),
		},
		Special: []string{"systemd"},
	}, nil
}
