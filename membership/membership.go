package membership

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Membership is one node's membership in the cluster.
type Membership struct {
	name   string
	timing Timing
	log    *slog.Logger
	list   *memberlist.Memberlist
	table  *table
	events *eventQueue

	metaMu  sync.Mutex
	meta    Meta
	encoded []byte
	leaving bool

	// lifeMu serialises Leave and Shutdown: memberlist panics on a Leave
	// after Shutdown.
	lifeMu sync.Mutex
	down   atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

// errShutdown is returned by calls made after Shutdown.
var errShutdown = errors.New("membership: already shut down")

// New starts gossip on the configured address; it does not join anyone (see
// Join). The first event on Events is this node's own EventUp.
func New(cfg Config) (*Membership, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	timing, _ := TimingFor(cfg.Profile) // checked by withDefaults
	mc, _ := MemberlistConfig(cfg.Profile)
	encoded, _ := encodeMeta(cfg.Meta, false) // checked by withDefaults

	m := &Membership{
		name:    cfg.Meta.Name,
		timing:  timing,
		log:     cfg.Logger,
		events:  newEventQueue(cfg.EventBuffer, cfg.Logger),
		meta:    cfg.Meta,
		encoded: encoded,
		stop:    make(chan struct{}),
	}
	m.table = newTable(cfg.Clock, cfg.Logger, m.events)

	mc.Name = cfg.Meta.Name
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.BindPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	// DefaultLANConfig advertises 7946 whatever we bind to; advertise the
	// bound port unless told otherwise (memberlist fills it in for port 0).
	mc.AdvertisePort = cfg.AdvertisePort
	if mc.AdvertisePort == 0 {
		mc.AdvertisePort = cfg.BindPort
	}
	mc.SecretKey = cfg.Key
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	mc.Logger = log.New(&logBridge{log: cfg.Logger, suspected: m.table.suspected}, "", 0)
	d := delegate{m: m}
	mc.Delegate, mc.Events, mc.Ping = d, d, d

	list, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: starting gossip on %s:%d: %w", cfg.BindAddr, cfg.BindPort, err)
	}
	m.list = list
	m.wg.Add(1)
	go m.watchSuspects()
	cfg.Logger.Info("gossip: started", "node", m.name, "addr", m.Addr(), "profile", string(cfg.Profile))
	return m, nil
}

// watchSuspects ticks the table's suspicion backstop (table.sweep) once per
// probe interval.
func (m *Membership) watchSuspects() {
	defer m.wg.Done()
	tick := time.NewTicker(m.timing.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
			// Two extra ticks cover the probe round in flight and rounding.
			limit := int(m.timing.maxSuspicion(m.table.live())/m.timing.ProbeInterval) + 2
			m.table.sweep(limit)
		}
	}
}

// Join contacts the given gossip addresses (host:port) and merges their view
// of the cluster. It returns how many it reached; it fails only if it reached
// none, with a *JoinError that says when the cause is a cluster key mismatch
// (errors.Is(err, ErrKeyMismatch)).
func (m *Membership) Join(addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, errors.New("membership: Join needs at least one address")
	}
	if m.down.Load() {
		return 0, errShutdown
	}
	n, err := m.list.Join(addrs)
	if n > 0 {
		return n, nil
	}
	// The log bridge has already logged each address's failure, with a
	// plain sentence for a key mismatch.
	return 0, newJoinError(append([]string(nil), addrs...), err)
}

// Events delivers membership changes in order. It never blocks memberlist:
// when the buffer is full the oldest event is dropped (a warning is logged).
// The channel is closed by Shutdown.
func (m *Membership) Events() <-chan Event { return m.events.ch }

// Members returns every member this node has seen since New, itself
// included, down and left ones too, sorted by name.
func (m *Membership) Members() []Member { return m.table.list() }

// Local returns this node as a member.
func (m *Membership) Local() Member {
	me, _ := m.table.get(m.name) // present from New on: memberlist announces us in Create
	return me
}

// Addr is the gossip address peers use to reach this node, host:port; with
// BindPort 0 it carries the port the kernel chose.
func (m *Membership) Addr() string { return m.Local().Addr }

// UpdateMeta replaces this node's meta and gossips it; peers report
// EventUpdated. The name cannot change: it is the node's identity.
// UpdateMeta waits up to the profile's TCPTimeout for the change to be sent
// out; if that expires the change still spreads (gossip queue, push/pull).
func (m *Membership) UpdateMeta(meta Meta) error {
	if meta.Name != m.name {
		return fmt.Errorf("membership: UpdateMeta cannot rename node %q to %q", m.name, meta.Name)
	}
	if m.down.Load() {
		return errShutdown
	}
	m.metaMu.Lock()
	if m.leaving {
		m.metaMu.Unlock()
		return errors.New("membership: this node has left the cluster")
	}
	b, err := encodeMeta(meta, false)
	if err != nil {
		m.metaMu.Unlock()
		return err
	}
	m.meta, m.encoded = meta, b
	m.metaMu.Unlock()

	// Not under metaMu: memberlist calls NodeMeta from inside UpdateNode.
	if err := m.list.UpdateNode(m.timing.TCPTimeout); err != nil {
		m.log.Debug("gossip: meta update not confirmed sent yet; it will still spread", "err", err)
	}
	return nil
}

func (m *Membership) metaBytes() []byte {
	m.metaMu.Lock()
	defer m.metaMu.Unlock()
	return m.encoded
}

// Leave tells the cluster this node is going away on purpose, so peers
// report StateLeft rather than StateDead, and waits up to timeout (≤ 0: the
// profile's TCPTimeout) for that to be gossiped. Call Shutdown afterwards.
// Leave after Shutdown is an error.
func (m *Membership) Leave(timeout time.Duration) error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.down.Load() {
		return errShutdown
	}
	if timeout <= 0 {
		timeout = m.timing.TCPTimeout
	}
	deadline := time.Now().Add(timeout)
	// memberlist reads a timeout of 0 as "wait forever".
	remaining := func() time.Duration { return max(time.Until(deadline), time.Millisecond) }

	// First the leaving flag, so that peers know the "dead" that follows
	// is a leave: memberlist does not tell them (see doc.go).
	m.metaMu.Lock()
	first := !m.leaving
	if first {
		b, err := encodeMeta(m.meta, true) // fits: encodeMeta kept room for the flag
		if err != nil {
			m.metaMu.Unlock()
			return err
		}
		m.leaving, m.encoded = true, b
	}
	m.metaMu.Unlock()
	if first {
		if err := m.list.UpdateNode(remaining()); err != nil {
			m.log.Debug("gossip: leave flag not confirmed sent; leaving anyway", "err", err)
		}
	}
	if err := m.list.Leave(remaining()); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	m.log.Info("gossip: left the cluster", "node", m.name)
	return nil
}

// Shutdown stops gossip at once, without telling anyone: peers see a crash
// unless Leave ran first. It closes the Events channel. It is idempotent.
func (m *Membership) Shutdown() error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.down.Load() {
		return nil
	}
	m.down.Store(true)
	err := m.list.Shutdown()
	close(m.stop)
	m.wg.Wait()
	m.events.close()
	if err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}
