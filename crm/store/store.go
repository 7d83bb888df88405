package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"pacer/crm/cib"
)

// Defaults for the zero fields of Config.
const (
	// DefaultApplyTimeout is long because the disk, not the network, sets
	// the tail: a 740 ms fsync stall was seen on the reference VM.
	DefaultApplyTimeout = 10 * time.Second
	// DefaultSnapshotThreshold and DefaultSnapshotInterval: a CIB is
	// small (KBs to a few MBs) and op results are logged often, so
	// snapshot well before raft's 8192 entries to keep restarts quick.
	DefaultSnapshotThreshold = 1024
	DefaultSnapshotInterval  = 30 * time.Second
	// DefaultTrailingLogs kept after a snapshot let a briefly absent
	// follower catch up from the log; a longer absence gets a snapshot,
	// which is cheap at CIB sizes.
	DefaultTrailingLogs = 1024

	snapshotsRetained = 2
	transportTimeout  = 10 * time.Second
	transportMaxPool  = 3
	logCacheSize      = 512
	boltLockTimeout   = time.Second
)

// ErrClosed is returned by a Store after Close.
var ErrClosed = errors.New("store closed")

// Server is one member of the Raft configuration.
type Server struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Voter bool   `json:"voter"`
}

// Result is what an accepted command produced.
type Result struct {
	Version cib.Version `json:"version"` // the CIB version after the command
	Index   uint64      `json:"index"`   // its raft index, for WaitIndex on other nodes
}

// NotLeaderError says which node is the leader, so the API can forward a
// write there. errors.Is(err, ErrNotLeader) holds.
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	return fmt.Sprintf("%v: the leader is %s at %s; send writes there", ErrNotLeader, e.LeaderID, e.LeaderAddr)
}

func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

// Config configures a Store.
type Config struct {
	// NodeID is this node's stable name in the Raft configuration.
	NodeID string
	// BindAddr is the raft TCP listen address, e.g. "10.0.0.1:7946" or
	// "127.0.0.1:0" (Addr then tells the port chosen).
	BindAddr string
	// AdvertiseAddr is the address other nodes dial; default: the bound
	// address, which must then be a specific IP.
	AdvertiseAddr string
	// Listener, when set, is used instead of binding BindAddr: tests open
	// every node's listener first so all nodes get one bootstrap list,
	// and it fits socket activation. The Store closes it.
	Listener net.Listener
	// DataDir holds raft.db (raft-boltdb: log and term/vote) and
	// snapshots/ (the last two). Created with mode 0700.
	DataDir string
	// TLS is the mutual-TLS configuration from pki.Config; required, so a
	// host without a certificate from the cluster CA cannot take part.
	TLS *tls.Config
	// Bootstrap is the initial Raft configuration, used only when DataDir
	// holds no raft state yet. Give every founding node the same list
	// (hashicorp/raft accepts identical bootstraps); a node that joins
	// later starts with none and is added by the leader. An entry for
	// this node may leave Addr empty to mean "my advertised address".
	Bootstrap []Server
	// Timing: zero fields take FastTiming's values.
	Timing Timing
	// ApplyTimeout bounds how long Apply waits to enqueue a command
	// (default DefaultApplyTimeout); a context deadline may shorten it.
	ApplyTimeout time.Duration
	// SnapshotThreshold, SnapshotInterval and TrailingLogs: see the
	// Default constants.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// Logger receives the store's and raft's logs (raft's Trace level
	// maps to slog.LevelDebug-4). Default: discard.
	Logger *slog.Logger
}

// Store is this node's member of the Raft group that replicates the CIB.
// Writes (Apply) go to the leader; reads (Read) come from the local FSM
// and may lag the leader by the commit latency: use WaitIndex for
// read-your-writes.
type Store struct {
	cfg    Config
	log    *slog.Logger
	fsm    *FSM
	raftp  atomic.Pointer[raft.Raft] // swapped by ShrinkToSelf; read through r()
	stream *tlsStream
	bolt   *raftboltdb.BoltStore

	// What a restart of raft (ShrinkToSelf) needs again.
	rc    *raft.Config
	logs  raft.LogStore
	snaps raft.SnapshotStore
	trans *raft.NetworkTransport
	rmu   sync.Mutex // serialises ShrinkToSelf and Close

	notice commitNotice

	observer *raft.Observer
	obsCh    chan raft.Observation
	leader   leaderFanout

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Open starts this node's raft member: it opens (or creates) the data
// directory, listens for raft traffic over TLS, bootstraps when the
// directory is new and Bootstrap is given, and restores the latest
// snapshot. It returns before any leader is elected.
func Open(cfg Config) (s *Store, err error) {
	// On failure, close what was opened, and the caller's Listener too:
	// Open owns it either way.
	var cleanup []func() error
	defer func() {
		if err != nil {
			if cfg.Listener != nil {
				_ = cfg.Listener.Close()
			}
			for i := len(cleanup) - 1; i >= 0; i-- {
				_ = cleanup[i]()
			}
		}
	}()

	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	cfg.Timing.apply(rc)
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.Logger = newHCLog(log, "raft")
	// Checked before anything is opened, so a bad setting leaves no files.
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("raft settings: %w", err)
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft data directory: %w", err)
	}
	// The CIB holds fencing credentials (stonith device params): an
	// existing directory that others can read is tightened, not trusted.
	if fi, err := os.Stat(cfg.DataDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("restrict raft data directory %s to mode 0700: %w", cfg.DataDir, err)
		}
		log.Warn("raft data directory was readable by others; set to mode 0700", "dir", cfg.DataDir, "was", fi.Mode().Perm().String())
	}
	boltOpts := *bbolt.DefaultOptions
	boltOpts.Timeout = boltLockTimeout
	dbPath := filepath.Join(cfg.DataDir, "raft.db")
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: dbPath, BoltOptions: &boltOpts})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: locked by another process; is another pacerd using %s?", dbPath, cfg.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dbPath, err)
	}
	cleanup = append(cleanup, bolt.Close)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, newHCLog(log, "raft.snapshot"))
	if err != nil {
		return nil, fmt.Errorf("open snapshots in %s: %w", cfg.DataDir, err)
	}

	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.BindAddr); err != nil {
			return nil, fmt.Errorf("listen for raft on %s: %w", cfg.BindAddr, err)
		}
		cleanup = append(cleanup, ln.Close)
	}
	stream, err := newTLSStream(ln, cfg.AdvertiseAddr, cfg.TLS, log)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, stream.Close)
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: transportMaxPool,
		Timeout: transportTimeout,
		Logger:  newHCLog(log, "raft.net"),
	})
	cleanup = append(cleanup, trans.Close)

	logs, err := raft.NewLogCache(logCacheSize, bolt)
	if err != nil {
		return nil, err
	}
	existing, err := raft.HasExistingState(logs, bolt, snaps)
	if err != nil {
		return nil, fmt.Errorf("read raft state in %s: %w", cfg.DataDir, err)
	}
	if !existing && len(cfg.Bootstrap) > 0 {
		conf, err := bootstrapConfiguration(cfg.Bootstrap, cfg.NodeID, stream.Addr().String())
		if err != nil {
			return nil, err
		}
		if err := raft.BootstrapCluster(rc, logs, bolt, snaps, trans, conf); err != nil {
			return nil, fmt.Errorf("bootstrap raft: %w", err)
		}
		log.Info("raft bootstrapped", "servers", len(conf.Servers))
	}

	fsm := NewFSM(log)
	r, err := raft.NewRaft(rc, fsm, logs, bolt, snaps, keepOpen{trans})
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	s = &Store{
		cfg: cfg, log: log, fsm: fsm, stream: stream, bolt: bolt,
		rc: rc, logs: logs, snaps: snaps, trans: trans,
		obsCh: make(chan raft.Observation, 16),
		done:  make(chan struct{}),
	}
	s.raftp.Store(r)
	s.leader.subs = map[chan bool]bool{}
	// Non-blocking observer: raft must never wait on us. A dropped
	// observation is harmless because watchLeader re-reads the state on
	// each one it does get, and a drop means others are queued.
	s.observer = raft.NewObserver(s.obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	r.RegisterObserver(s.observer)
	// raft must not close the transport on Shutdown (ShrinkToSelf
	// restarts raft on it), so Close closes it; until then a failed
	// Open closes it through cleanup.
	s.wg.Add(1)
	go s.watchLeader()
	return s, nil
}

func (c Config) check() error {
	switch {
	case c.NodeID == "":
		return errors.New("store: NodeID is empty: give this node's name")
	case c.TLS == nil:
		return errors.New("store: TLS is nil: raft traffic must use the cluster's mutual TLS (pki.LoadConfig), or anyone who reaches the port could join")
	case c.DataDir == "":
		return errors.New("store: DataDir is empty: give the directory for raft state, e.g. /var/lib/pacer/raft")
	case c.Listener == nil && c.BindAddr == "":
		return errors.New("store: BindAddr is empty: give the raft listen address, e.g. 10.0.0.1:7947")
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Timing = c.Timing.withDefaults()
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = DefaultApplyTimeout
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = DefaultSnapshotInterval
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = DefaultTrailingLogs
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func bootstrapConfiguration(list []Server, self, selfAddr string) (raft.Configuration, error) {
	var conf raft.Configuration
	for _, srv := range list {
		addr := srv.Addr
		if addr == "" && srv.ID == self {
			addr = selfAddr
		}
		if srv.ID == "" || addr == "" {
			return conf, fmt.Errorf("store: bootstrap server %q has no id or address: give both", srv.ID)
		}
		suffrage := raft.Nonvoter
		if srv.Voter {
			suffrage = raft.Voter
		}
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: suffrage, ID: raft.ServerID(srv.ID), Address: raft.ServerAddress(addr)})
	}
	return conf, nil
}

// Addr is the raft address other nodes use for this node.
func (s *Store) Addr() string { return s.stream.Addr().String() }

// ID is this node's raft server id.
func (s *Store) ID() string { return s.cfg.NodeID }

// Apply proposes a command. Only the leader accepts writes: elsewhere it
// returns a *NotLeaderError (errors.Is ErrNotLeader) or ErrNoLeader.
//
// The command is first run against the current state, so one that would
// be refused (ErrNotFound, ErrExists, ErrInvalid, *cib.ValidationError)
// never enters the log. The FSM checks it again at commit, since other
// writes may land in between; its refusal comes back unchanged.
//
// When ctx ends or leadership is lost while the command is in flight, the
// command may still commit: Read before retrying a non-idempotent write.
func (s *Store) Apply(ctx context.Context, cmd Command) (Result, error) {
	if cmd == nil {
		return Result{}, fmt.Errorf("%w: nil command", ErrInvalid)
	}
	if s.closed() {
		return Result{}, ErrClosed
	}
	if err := ctx.Err(); err != nil { // not proposed at all: safe to retry
		return Result{}, fmt.Errorf("apply %s: %w", cmd.Kind(), err)
	}
	if s.r().State() != raft.Leader {
		return Result{}, s.notLeader()
	}
	cur, _ := s.fsm.Read()
	if _, err := safeNext(s.log, cur, cmd); err != nil {
		return Result{}, err
	}
	data, err := Encode(cmd)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	timeout := s.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return Result{}, fmt.Errorf("apply %s: %w", cmd.Kind(), context.DeadlineExceeded)
	}
	f := s.r().Apply(data, timeout)
	if err := waitFuture(ctx, f); err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", cmd.Kind(), s.raftErr(err))
	}
	s.notice.send(s.r)
	switch r := f.Response().(type) {
	case error:
		return Result{}, r
	case cib.Version:
		return Result{Version: r, Index: f.Index()}, nil
	default:
		return Result{}, fmt.Errorf("apply %s: unexpected FSM response %T", cmd.Kind(), r)
	}
}

// waitFuture waits for a raft future or ctx, whichever ends first. The
// future resolves anyway (commit, lost leadership or shutdown), so the
// goroutine left behind on cancellation is bounded.
func waitFuture(ctx context.Context, f raft.Future) error {
	if ctx.Done() == nil {
		return f.Error()
	}
	res := make(chan error, 1)
	go func() { res <- f.Error() }()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w (the command may still commit)", ctx.Err())
	}
}

// notLeader describes who leads now.
func (s *Store) notLeader() error {
	addr, id := s.r().LeaderWithID()
	if id == "" {
		return ErrNoLeader
	}
	return &NotLeaderError{LeaderID: string(id), LeaderAddr: string(addr)}
}

// raftErr maps raft's errors to the package's sentinels.
func (s *Store) raftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return s.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("leadership lost before the change committed (%w): %w", ErrMaybeApplied, s.notLeader())
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("raft is overloaded, the change was not queued within %v: %w", s.cfg.ApplyTimeout, context.DeadlineExceeded)
	}
	return err
}

// Read returns the current CIB and the last raft index applied here.
// The CIB is shared and immutable: callers must not modify it (Clone it
// to make changes).
func (s *Store) Read() (*cib.CIB, uint64) { return s.fsm.Read() }

// WaitIndex blocks until this node's FSM has applied index (from a
// Result, typically obtained on the leader), so a Read that follows sees
// that write. It fails when ctx ends or the store closes.
func (s *Store) WaitIndex(ctx context.Context, index uint64) error {
	return s.fsm.waitIndex(ctx, index, s.done)
}

// Subscribe returns a channel signalled (coalesced, buffer 1) after every
// change of the CIB, and a cancel func that closes it. Close closes all.
func (s *Store) Subscribe() (<-chan struct{}, func()) { return s.fsm.Subscribe() }

// Snapshot takes a raft snapshot now (normally done by SnapshotThreshold).
func (s *Store) Snapshot() error {
	err := s.r().Snapshot().Error()
	if errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raft snapshot: %w", s.raftErr(err))
	}
	return nil
}

// Stats returns raft's statistics plus the store's own: cib_version,
// fsm_index, undecodable_entries, refused_conns (failed TLS handshakes),
// node_id and addr.
func (s *Store) Stats() map[string]string {
	m := s.r().Stats()
	c, idx := s.fsm.Read()
	m["cib_version"] = c.Version.String()
	m["fsm_index"] = strconv.FormatUint(idx, 10)
	m["undecodable_entries"] = strconv.FormatUint(s.fsm.undecodable.Load(), 10)
	m["refused_conns"] = strconv.FormatUint(s.stream.refused.Load(), 10)
	m["node_id"] = s.cfg.NodeID
	m["addr"] = s.Addr()
	return m
}

// Close stops raft, closes every raft connection and the data files, and
// ends every subscription. It does not hand over leadership (see
// TransferLeadership). Safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.rmu.Lock()
		defer s.rmu.Unlock()
		close(s.done)
		s.r().DeregisterObserver(s.observer)
		err := s.r().Shutdown().Error()
		s.wg.Wait()
		s.closeErr = errors.Join(err, s.trans.Close(), s.stream.Close(), s.bolt.Close())
		s.fsm.closeSubscribers()
		s.leader.close()
	})
	return s.closeErr
}

func (s *Store) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
