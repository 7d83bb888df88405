// Package fencer decides how to fence a node with the devices the CIB
// configures and runs it: fencing topology levels in index order (every
// device of a level must succeed; the first level that does wins), or,
// with no levels for the target, each stonith device that can reach it in
// turn until one succeeds. Every attempt comes back for the fence
// history. It runs on the DC, which is never the target (a node does not
// fence itself while another can).
package fencer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"pacer/crm/cib"
	"pacer/stonith"
	"pacer/stonith/devices"
)

// Opener builds a device from a stonith resource's agent and params.
type Opener func(ctx context.Context, agent string, params map[string]string) (*devices.Spec, error)

// Config wires a Fencer. Zero fields take the defaults given.
type Config struct {
	// Open builds devices; default devices.Open (native fence_xvm and
	// fence_libvirt, external fence_* agents).
	Open Opener
	// Node is the node running the fencer (for the history).
	Node string
	// Timeout bounds one device's attempt when the CIB's stonith-timeout
	// is unset. Default 60s.
	Timeout time.Duration
	Clock   func() time.Time
	Logger  *slog.Logger
}

// Fencer fences nodes. Devices are opened once per configuration and
// cached by resource id.
type Fencer struct {
	cfg Config

	mu    sync.Mutex
	specs map[string]cachedSpec
}

type cachedSpec struct {
	key  string // agent + params, to notice a changed configuration
	spec *devices.Spec
}

// New returns a Fencer.
func New(cfg Config) *Fencer {
	if cfg.Open == nil {
		cfg.Open = func(ctx context.Context, agent string, params map[string]string) (*devices.Spec, error) {
			return devices.Open(ctx, agent, params)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Fencer{cfg: cfg, specs: map[string]cachedSpec{}}
}

// ErrNoDevice means no configured device can fence the target.
var ErrNoDevice = errors.New("no fencing device can reach the node")

// Fence fences target with action (off or reboot) and returns every
// attempt made. A nil error means a device confirmed it.
func (f *Fencer) Fence(ctx context.Context, cur *cib.CIB, target string, action stonith.Action, origin string) ([]cib.FenceEvent, error) {
	if err := stonith.CheckFenceAction(action); err != nil {
		return nil, err
	}
	timeout := f.cfg.Timeout
	if v := cur.Config.Properties["stonith-timeout"]; v != "" {
		if d, err := cib.ParseDuration(v); err == nil && d > 0 {
			timeout = d
		}
	}
	var events []cib.FenceEvent
	levels := levelsFor(cur, target)
	if len(levels) == 0 {
		// No topology: any device that can reach the target, in
		// configuration order, until one succeeds.
		for _, p := range stonithDevices(cur) {
			ev, ok, err := f.attempt(ctx, p, target, action, origin, 0, timeout)
			if ev != nil {
				events = append(events, *ev)
			}
			if err == nil && ok {
				return events, nil
			}
		}
		if len(events) == 0 {
			return nil, fmt.Errorf("fence %s: %w (configure a stonith device whose pcmk_host_map or pcmk_host_list names it)", target, ErrNoDevice)
		}
		return events, fmt.Errorf("fence %s: every device failed: %s", target, lastError(events))
	}
	for _, l := range levels {
		ok := true
		for _, id := range l.Devices {
			p := cur.Config.Primitive(id)
			if p == nil {
				ok = false
				break
			}
			ev, done, err := f.attempt(ctx, p, target, action, origin, l.Index, timeout)
			if ev != nil {
				events = append(events, *ev)
			}
			if err != nil || !done {
				ok = false
				break
			}
		}
		if ok {
			return events, nil
		}
	}
	return events, fmt.Errorf("fence %s: no fencing level succeeded: %s", target, lastError(events))
}

// attempt runs one device against the target. ok=false with a nil event
// means the device cannot reach the target (not an attempt).
func (f *Fencer) attempt(ctx context.Context, p *cib.Primitive, target string, action stonith.Action, origin string, level int, timeout time.Duration) (*cib.FenceEvent, bool, error) {
	spec, err := f.spec(ctx, p)
	start := f.cfg.Clock()
	ev := &cib.FenceEvent{Target: target, Action: string(action), Device: p.ID, Agent: p.Type, Executor: f.cfg.Node, Origin: origin, Start: start, Level: level}
	finish := func(err error) (*cib.FenceEvent, bool, error) {
		ev.Completion = f.cfg.Clock()
		ev.Duration = ev.Completion.Sub(start)
		switch {
		case err == nil:
			ev.Result = "ok"
		case errors.Is(err, context.DeadlineExceeded):
			ev.Result, ev.Error = "timeout", err.Error()
		default:
			ev.Result, ev.Error = "failed", err.Error()
		}
		f.cfg.Logger.Warn("fencing attempt", "target", target, "device", p.ID, "action", action, "result", ev.Result, "error", ev.Error, "duration", ev.Duration)
		return ev, err == nil, err
	}
	if err != nil {
		return finish(err)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch spec.Targeting.Check(target) {
	case stonith.NotEligible:
		return nil, false, nil
	case stonith.NeedList:
		list, err := spec.Device.List(actx)
		if err != nil {
			return finish(fmt.Errorf("list targets: %w", err))
		}
		var names []string
		for _, t := range list {
			names = append(names, t.Name, t.UUID, t.Alias)
		}
		if !spec.Targeting.Listed(target, names) {
			return nil, false, nil
		}
	case stonith.NeedStatus:
		if _, err := spec.Device.Status(actx, spec.Targeting.Plug(target)); err != nil {
			return nil, false, nil
		}
	}
	_, err = spec.Device.Fence(actx, spec.Targeting.Plug(target), action)
	return finish(err)
}

func (f *Fencer) spec(ctx context.Context, p *cib.Primitive) (*devices.Spec, error) {
	key := p.Type + "\x00" + paramKey(p.Params)
	f.mu.Lock()
	c, ok := f.specs[p.ID]
	f.mu.Unlock()
	if ok && c.key == key {
		return c.spec, nil
	}
	spec, err := f.cfg.Open(ctx, p.Type, p.Params)
	if err != nil {
		return nil, fmt.Errorf("device %s (%s): %w", p.ID, p.Type, err)
	}
	f.mu.Lock()
	f.specs[p.ID] = cachedSpec{key: key, spec: spec}
	f.mu.Unlock()
	return spec, nil
}

func paramKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\x00")
	}
	return b.String()
}

// Monitor checks a device (for its recurring monitor).
func (f *Fencer) Monitor(ctx context.Context, p *cib.Primitive) error {
	spec, err := f.spec(ctx, p)
	if err != nil {
		return err
	}
	return spec.Device.Monitor(ctx)
}

// levelsFor returns the target's fencing levels in index order.
func levelsFor(cur *cib.CIB, target string) []cib.FencingLevel {
	var out []cib.FencingLevel
	for _, l := range cur.Config.FencingLevels {
		if strings.EqualFold(l.Target, target) {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// stonithDevices lists the stonith resources, skipping disabled ones.
func stonithDevices(cur *cib.CIB) []*cib.Primitive {
	var out []*cib.Primitive
	for _, p := range cur.Config.Primitives() {
		if p.Class == "stonith" && p.Meta["target-role"] != "Stopped" {
			out = append(out, p)
		}
	}
	return out
}

func lastError(events []cib.FenceEvent) string {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Error != "" {
			return events[i].Device + ": " + events[i].Error
		}
	}
	return "unknown"
}
