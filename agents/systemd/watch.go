package systemd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"pacer/agents"
)

// unitWatch is one Watch of one unit.
type unitWatch struct {
	m       *Manager
	unit    string
	res     string
	inbox   chan map[string]dbus.Variant
	out     chan agents.Event
	endOnce sync.Once
	ended   chan struct{}
}

// end stops the watch from outside (connection lost, manager closed).
func (w *unitWatch) end() { w.endOnce.Do(func() { close(w.ended) }) }

// Watch reports a unit leaving the active state (a crash, a kill, an
// administrator's systemctl stop) from systemd's PropertiesChanged signals,
// at the first signal: for a SIGKILLed service that is "deactivating" or
// "failed", within a few milliseconds. Transitions caused by this
// manager's own Stop are not reported; the return to active after a
// reported failure is. A unit not active when the watch is in place is
// reported at once. The channel closes when ctx is done or the connection
// to systemd is lost.
func (a *Agent) Watch(ctx context.Context, req agents.Request) (<-chan agents.Event, error) {
	c, err := a.m.connection(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", a.unit, err)
	}
	if err := a.m.subscribe(ctx, c); err != nil {
		return nil, fmt.Errorf("watch %s: %w", a.unit, err)
	}
	w := &unitWatch{m: a.m, unit: a.unit, res: req.Resource, inbox: make(chan map[string]dbus.Variant, 256),
		out: make(chan agents.Event, 8), ended: make(chan struct{})}
	a.m.register(w)
	st, err := a.state(ctx, c) // after registering: no change is lost in between
	if err != nil {
		a.m.unregister(w)
		return nil, fmt.Errorf("watch %s: %w", a.unit, err)
	}
	go w.loop(ctx, st)
	return w.out, nil
}

func (m *Manager) register(w *unitWatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watchers[w.unit] == nil {
		m.watchers[w.unit] = map[*unitWatch]struct{}{}
	}
	m.watchers[w.unit][w] = struct{}{}
}

func (m *Manager) unregister(w *unitWatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if set := m.watchers[w.unit]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(m.watchers, w.unit)
		}
	}
}

// subscribe makes the signal connection for the watches, once per
// connection to systemd: Subscribe (so systemd emits unit changes),
// AddMatch (needed on a bus, refused by the private socket), and a
// dispatcher that hands PropertiesChanged of units to their watches.
// go-systemd's own subscriber is not used: it reads its subscriber fields
// without a lock (a data race under -race).
func (m *Manager) subscribe(ctx context.Context, c *sddbus.Conn) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn != c {
		return fmt.Errorf("the connection to systemd was replaced; try again")
	}
	if m.sig != nil {
		return nil
	}
	sig, err := m.opts.Dial(m.life)
	if err != nil {
		return fmt.Errorf("connect to systemd for signals: %w", err)
	}
	// On a bus the daemon must be asked for the signals; the private
	// socket has no bus driver and answers with an error, which is fine
	// (systemd sends its signals to every private connection).
	rule := "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path_namespace='/org/freedesktop/systemd1/unit'"
	if err := sig.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.AddMatch", 0, rule).Err; err != nil {
		m.opts.Logger.Debug("AddMatch refused (private socket?)", "err", err)
	}
	ch := make(chan *dbus.Signal, 1024)
	sig.Signal(ch)
	obj := sig.Object("org.freedesktop.systemd1", "/org/freedesktop/systemd1")
	if err := obj.CallWithContext(ctx, "org.freedesktop.systemd1.Manager.Subscribe", 0).Err; err != nil {
		sig.Close()
		return fmt.Errorf("subscribe to systemd signals: %w", err)
	}
	m.sig = sig
	m.wg.Add(1)
	go m.dispatch(sig, ch)
	return nil
}

// dispatch hands unit property changes to the watches of their unit. When
// the signal connection dies godbus closes ch: the watches end (their
// channels close) and the next operation reconnects.
func (m *Manager) dispatch(sig *dbus.Conn, ch <-chan *dbus.Signal) {
	defer m.wg.Done()
	for s := range ch {
		if s.Name != "org.freedesktop.DBus.Properties.PropertiesChanged" || len(s.Body) < 2 {
			continue
		}
		if iface, _ := s.Body[0].(string); iface != "org.freedesktop.systemd1.Unit" {
			continue
		}
		changed, ok := s.Body[1].(map[string]dbus.Variant)
		if !ok {
			continue
		}
		unit := unitFromPath(s.Path)
		m.mu.Lock()
		for w := range m.watchers[unit] {
			select {
			case w.inbox <- changed:
			default:
				m.opts.Logger.Warn("systemd watch inbox full; change dropped", "unit", unit)
			}
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	if m.sig == sig && !m.closed {
		m.opts.Logger.Warn("signal connection to systemd lost; watches end")
		m.dropLocked()
	}
	m.mu.Unlock()
}

// unitFromPath undoes systemd's bus path escaping:
// /org/freedesktop/systemd1/unit/haproxy_2eservice -> haproxy.service.
func unitFromPath(p dbus.ObjectPath) string {
	s := string(p)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (w *unitWatch) loop(ctx context.Context, st unitState) {
	defer close(w.out)
	defer w.m.unregister(w)
	up := st.Active != "failed" && st.Active != "inactive" && st.Sub != "auto-restart"
	down := false
	if !up && w.m.isWanted(w.unit) {
		if !w.send(ctx, agents.NotRunning, st) {
			return
		}
		down = true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.ended:
			return
		case changed := <-w.inbox:
			if v, ok := changed["ActiveState"]; ok {
				st.Active, _ = v.Value().(string)
			}
			if v, ok := changed["SubState"]; ok {
				st.Sub, _ = v.Value().(string)
			}
			if v, ok := changed["LoadState"]; ok {
				st.Load, _ = v.Value().(string)
			}
			running := st.Active == "active" || st.Active == "reloading"
			switch {
			case up && !running && st.Active != "activating":
				// deactivating, failed, inactive: the first sign of a crash
				up = false
				if !w.m.isWanted(w.unit) {
					continue // our own stop
				}
				if !w.send(ctx, agents.NotRunning, st) {
					return
				}
				down = true
			case up && st.Sub == "auto-restart":
				up = false
				if w.m.isWanted(w.unit) {
					if !w.send(ctx, agents.NotRunning, st) {
						return
					}
					down = true
				}
			case !up && running:
				up = true
				if down {
					down = false
					if !w.send(ctx, agents.OK, st) {
						return
					}
				}
			}
		}
	}
}

func (w *unitWatch) send(ctx context.Context, code agents.Code, st unitState) bool {
	ev := agents.Event{Resource: w.res, Code: code, At: w.m.opts.Clock.Now(),
		Reason: fmt.Sprintf("%s: ActiveState=%s SubState=%s", w.unit, st.Active, st.Sub)}
	select {
	case w.out <- ev:
		return true
	case <-ctx.Done():
		return false
	case <-w.ended:
		return false
	}
}
