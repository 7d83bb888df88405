// Package systemd manages systemd units as cluster resources
// (systemd:haproxy) over D-Bus with go-systemd, as Pacemaker's
// lib/services/systemd.c does: StartUnit and StopUnit waiting for the job
// result, monitor from ActiveState/SubState, and a runtime drop-in that
// sets Restart=no while the cluster manages the unit, so that systemd does
// not hide a crash by restarting the service behind the cluster's back.
// Unlike Pacemaker it also watches the unit (PropertiesChanged signals),
// so a crash is reported within milliseconds.
//
// One Manager holds one connection to systemd (the private socket, or
// whatever Options.Dial returns) for all units and reconnects after a
// loss.
package systemd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"pacer/agents"
	"pacer/crm/cib"
)

// Defaults.
const (
	DefaultDropInDir = "/run/systemd/system"
	// DropInName is the drop-in file written for managed units
	// (Pacemaker writes 50-pacemaker.conf).
	DropInName = "50-pacer.conf"
	// DefaultTimeout bounds an operation without a timeout of its own:
	// the 100 s Pacemaker advertises for systemd units.
	DefaultTimeout = 100 * time.Second
)

// Options configure a Manager.
type Options struct {
	// Dial returns one authenticated D-Bus connection to systemd; it is
	// called several times and each call must return an independent
	// connection (go-systemd wants two, the watches one more). The
	// default is the private socket /run/systemd/private (root, no
	// dbus-daemon needed), falling back to the system bus. ctx bounds the
	// life of the connection, not only the dialling: the Manager passes a
	// context that lives until Close.
	Dial func(ctx context.Context) (*dbus.Conn, error)
	// DropInDir is the runtime unit directory of that systemd.
	DropInDir string
	// KeepDropIn leaves the Restart=no drop-in in place after a stop.
	// Pacemaker removes it (the default here too), which costs a
	// daemon-reload (40-60 ms) on every stop and on the next start; a
	// node that wants the fastest failover keeps it: a stopped unit is
	// not restarted by systemd either way.
	KeepDropIn     bool
	DefaultTimeout time.Duration
	Logger         *slog.Logger
	Clock          agents.Clock
}

// Manager talks to one systemd. It implements agents.UnitBackend.
type Manager struct {
	opts Options

	life     context.Context // the connections' lifetime: until Close
	endLife  context.CancelFunc
	mu       sync.Mutex
	conn     *sddbus.Conn
	sig      *dbus.Conn // signals for the watches, made on the first Watch
	watchers map[string]map[*unitWatch]struct{}
	wanted   map[string]bool // false after our own stop
	closed   bool
	wg       sync.WaitGroup
}

// New returns a Manager; it connects on first use.
func New(opts Options) *Manager {
	if opts.Dial == nil {
		opts.Dial = dialDefault
	}
	if opts.DropInDir == "" {
		opts.DropInDir = DefaultDropInDir
	}
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = agents.SystemClock{}
	}
	life, end := context.WithCancel(context.Background())
	return &Manager{opts: opts, life: life, endLife: end,
		watchers: map[string]map[*unitWatch]struct{}{}, wanted: map[string]bool{}}
}

func dialDefault(ctx context.Context) (*dbus.Conn, error) {
	auth := []dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}
	if os.Geteuid() == 0 {
		if c, err := dbus.Dial("unix:path=/run/systemd/private", dbus.WithContext(ctx)); err == nil {
			if err := c.Auth(auth); err == nil {
				return c, nil
			}
			c.Close()
		}
	}
	c, err := dbus.SystemBusPrivate(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("connect to the system bus: %w", err)
	}
	if err := c.Auth(auth); err != nil {
		c.Close()
		return nil, fmt.Errorf("authenticate on the system bus: %w", err)
	}
	if err := c.Hello(); err != nil {
		c.Close()
		return nil, fmt.Errorf("hello on the system bus: %w", err)
	}
	return c, nil
}

// Agent returns the agent for a unit; "haproxy" means haproxy.service.
func (m *Manager) Agent(unit string) agents.Agent {
	return &Agent{m: m, given: unit, unit: UnitName(unit)}
}

// UnitName adds ".service" to a name without a unit type suffix, as
// Pacemaker's systemd_unit_name does.
func UnitName(name string) string {
	for _, suffix := range []string{".service", ".socket", ".mount", ".timer", ".path", ".target",
		".scope", ".slice", ".device", ".swap", ".automount"} {
		if strings.HasSuffix(name, suffix) {
			return name
		}
	}
	return name + ".service"
}

// connection returns the live connection, dialling when there is none.
func (m *Manager) connection(ctx context.Context) (*sddbus.Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("systemd manager is closed")
	}
	if m.conn != nil && m.conn.Connected() {
		return m.conn, nil
	}
	if m.conn != nil {
		m.dropLocked()
	}
	// Dial with the manager's lifetime, but give up waiting when the
	// operation's context ends (a late connection is then closed).
	type dialed struct {
		c   *sddbus.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		c, err := sddbus.NewConnection(func() (*dbus.Conn, error) { return m.opts.Dial(m.life) })
		ch <- dialed{c, err}
	}()
	select {
	case d := <-ch:
		if d.err != nil {
			return nil, fmt.Errorf("connect to systemd: %w", d.err)
		}
		m.conn = d.c
		return d.c, nil
	case <-ctx.Done():
		go func() {
			if d := <-ch; d.c != nil {
				d.c.Close()
			}
		}()
		return nil, fmt.Errorf("connect to systemd: %w", ctx.Err())
	}
}

// dropLocked forgets a dead connection and ends the watches on it: their
// channels close and the executor falls back to monitors.
func (m *Manager) dropLocked() {
	if m.sig != nil {
		m.sig.Close() // the dispatcher sees its channel close and returns
		m.sig = nil
	}
	for unit, set := range m.watchers {
		for w := range set {
			w.end()
		}
		delete(m.watchers, unit)
	}
	if m.conn != nil {
		m.conn.Close()
		m.conn = nil
	}
}

// Close ends every watch and closes the connection.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.dropLocked()
	m.mu.Unlock()
	m.endLife()
	m.wg.Wait()
}

func (m *Manager) setWanted(unit string, on bool) {
	m.mu.Lock()
	m.wanted[unit] = on
	m.mu.Unlock()
}

func (m *Manager) isWanted(unit string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	on, ok := m.wanted[unit]
	return !ok || on
}

// List lists the unit files systemd knows, as Pacemaker's
// systemd_unit_listall does (services without their suffix).
func (m *Manager) List(ctx context.Context) ([]cib.AgentName, error) {
	c, err := m.connection(ctx)
	if err != nil {
		return nil, err
	}
	files, err := c.ListUnitFilesContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list unit files: %w", err)
	}
	var out []cib.AgentName
	for _, f := range files {
		base := filepath.Base(f.Path)
		if UnitName(base) != base { // not a unit type we manage
			continue
		}
		out = append(out, cib.AgentName{Class: "systemd", Type: strings.TrimSuffix(base, ".service")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out, nil
}
