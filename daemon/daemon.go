package daemon

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"pacer/alerts"
	"pacer/api"
	"pacer/crm/controller"
	"pacer/crm/store"
	"pacer/membership"
	"pacer/pki"
	"pacer/resources"
	"pacer/stonith/fencer"
)

// Version is the pacer release; set at build time with -ldflags.
var Version = "0.1.0-dev"

// Daemon is one running pacerd.
type Daemon struct {
	cfg    *Config
	log    *slog.Logger
	tls    *tls.Config
	ml     *membership.Membership
	st     *store.Store
	exec   *resources.Executor
	fencer *fencer.Fencer
	// agents is the registry behind the executor (listing, meta-data).
	agents agentRegistry
	// closeAgents releases the agent backends (D-Bus, netlink sockets).
	closeAgents func()
	clock       func() time.Time

	unixSrv, tcpSrv *http.Server
	shutdown        chan string   // API-requested stops
	done            chan struct{} // closed by Stop
	stopOnce        sync.Once

	// metrics is this daemon's Prometheus registry; alerts runs the
	// alert agents.
	metrics    *metrics
	alerts     *alerts.Runner
	metricsSrv *http.Server

	ctrlMu sync.Mutex
	ctrl   *controller.Controller // while this node is the DC

	mu        sync.Mutex
	goneSince map[string]time.Time // node -> when gossip last saw it leave
	// fenced: node -> when this node fenced it. Gossip may hold a fenced
	// node "suspect" (alive) for a second or more before it declares it
	// dead; until the node shows a sign of life after the fence (a gossip
	// "up"), it is not alive to the DC, which would otherwise take it
	// back as a member and then find it lost (and fence it again).
	fenced  map[string]time.Time
	changes changes // gossip changes for API watchers
	// peerClients are kept-alive TLS clients by API address (forwarding).
	peerClients map[string]*api.Client
	joined      bool

	two twoNode
	// announced is closed once this node's restart is on record (its
	// old history cleared), so a drain never races with that clearing.
	announced chan struct{}
	// boot names this run of the daemon (gossiped as Meta.Boot).
	boot string
}

// newBoot names a run of the daemon: 64 random bits, so a restarted node
// is told from its previous run even when its clock went back.
func newBoot() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// Options are the parts tests replace.
type Options struct {
	Logger *slog.Logger
	Clock  func() time.Time
	// Agents resolves resource agents; nil takes pacerd's registry.
	Agents resources.Resolver
}

// Start opens the store, joins gossip and serves the API. It returns once
// everything listens; Wait blocks until the daemon is told to stop.
func Start(cfg *Config, opt Options) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: opt.Logger, clock: opt.Clock, shutdown: make(chan string, 1), done: make(chan struct{}), announced: make(chan struct{}), goneSince: map[string]time.Time{}, fenced: map[string]time.Time{}, boot: newBoot()}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.clock == nil {
		d.clock = time.Now
	}
	key, err := ReadKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	d.tls, err = pki.LoadConfig(filepath.Join(cfg.TLSDir, "ca.pem"), filepath.Join(cfg.TLSDir, "node.pem"), filepath.Join(cfg.TLSDir, "node-key.pem"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d.st, err = store.Open(store.Config{
		NodeID:        cfg.NodeName,
		BindAddr:      cfg.RaftAddr,
		AdvertiseAddr: cfg.RaftAddr,
		DataDir:       filepath.Join(cfg.DataDir, "raft"),
		TLS:           d.tls,
		Bootstrap:     bootstrapServers(cfg.Peers),
		Timing:        raftTiming(cfg.RaftProfile),
		Logger:        d.log.With("sub", "raft"),
	})
	if err != nil {
		return nil, fmt.Errorf("open CIB store: %w", err)
	}
	host, port, _ := net.SplitHostPort(cfg.GossipAddr)
	var portN int
	fmt.Sscan(port, &portN)
	role := ""
	if cfg.Witness {
		role = "witness"
	}
	d.ml, err = membership.New(membership.Config{
		Meta:     membership.Meta{Name: cfg.NodeName, RaftAddr: d.st.Addr(), APIAddr: cfg.APIAddr, Version: Version, Role: role, Boot: d.boot},
		BindAddr: host,
		BindPort: portN,
		Key:      key,
		Profile:  membership.Profile(cfg.GossipProfile),
		Logger:   d.log.With("sub", "gossip"),
		Clock:    d.clock,
	})
	if err != nil {
		d.st.Close()
		return nil, fmt.Errorf("start gossip: %w", err)
	}
	if opt.Agents == nil {
		set := defaultAgents(cfg, d)
		d.closeAgents = set.Close
		opt.Agents = set
	}
	if reg, ok := opt.Agents.(agentRegistry); ok {
		d.agents = reg
	}
	d.fencer = newFencer(d)
	d.metrics = newMetrics(d)
	d.alerts = newAlertRunner(d)
	d.exec = resources.New(resources.Config{Node: cfg.NodeName, Agents: opt.Agents, Clock: d.clock, Logger: d.log.With("sub", "exec"), Observer: d.observeOp})
	if err := d.serve(); err != nil {
		d.ml.Shutdown()
		d.st.Close()
		return nil, err
	}
	if err := d.serveMetrics(); err != nil {
		d.tcpSrv.Close()
		d.unixSrv.Close()
		d.ml.Shutdown()
		d.st.Close()
		return nil, err
	}
	go d.joinLoop()
	go d.leaderLoop()
	go d.reportEvents()
	go d.quorumLoop()
	go d.twoNodeLoop()
	if cfg.Witness {
		// A witness runs nothing: it has no history to clear, and a
		// status entry for it would name a node the CIB does not list.
		close(d.announced)
	} else {
		go d.announceRestart()
	}
	go d.eventLoop()
	d.log.Info("pacerd started", "version", Version, "cluster", cfg.ClusterName, "gossip", d.ml.Addr(), "raft", d.st.Addr(), "api", cfg.APIAddr, "socket", cfg.Socket)
	return d, nil
}

// bootstrapServers makes the initial Raft configuration from the peer
// list: the first three (five when there are five or more) vote.
func bootstrapServers(peers []Peer) []store.Server {
	voters := 3
	if len(peers) >= 5 {
		voters = 5
	}
	var out []store.Server
	for i, p := range peers {
		out = append(out, store.Server{ID: p.Name, Addr: p.Raft, Voter: i < voters})
	}
	return out
}

func raftTiming(profile string) store.Timing {
	if profile == "default" {
		return store.DefaultTiming()
	}
	return store.FastTiming()
}

func (d *Daemon) serve() error {
	mux := d.routes()
	if err := os.MkdirAll(filepath.Dir(d.cfg.Socket), 0o755); err != nil {
		return fmt.Errorf("socket dir: %w", err)
	}
	if err := removeStaleSocket(d.cfg.Socket); err != nil {
		return err
	}
	ul, err := net.Listen("unix", d.cfg.Socket)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.cfg.Socket, err)
	}
	// Only the owner (root on a real node) may talk to the local socket:
	// it is unauthenticated by design.
	if err := os.Chmod(d.cfg.Socket, 0o600); err != nil {
		ul.Close()
		return err
	}
	tl, err := tls.Listen("tcp", d.cfg.APIAddr, d.tls)
	if err != nil {
		ul.Close()
		return fmt.Errorf("listen on %s: %w", d.cfg.APIAddr, err)
	}
	// The local socket (mode 0600) also serves Go's profiler, for
	// measuring a live node; the TLS API does not.
	local := http.NewServeMux()
	local.Handle("/", mux)
	local.HandleFunc("/debug/pprof/", pprof.Index)
	local.HandleFunc("/debug/pprof/profile", pprof.Profile)
	d.unixSrv = &http.Server{Handler: local, ReadHeaderTimeout: 10 * time.Second}
	d.tcpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelDebug)}
	go d.unixSrv.Serve(ul)
	go d.tcpSrv.Serve(tl)
	return nil
}

// removeStaleSocket deletes a socket left by a crashed pacerd, but refuses
// to start when another pacerd still answers on it.
func removeStaleSocket(path string) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("another pacerd is running on %s: stop it first ('pcsctl cluster stop')", path)
	}
	return os.Remove(path)
}

// joinLoop keeps trying to join the configured peers until gossip sees
// one; a node that starts first simply waits for the others.
func (d *Daemon) joinLoop() {
	var addrs []string
	for _, p := range d.cfg.Peers {
		if p.Name != d.cfg.NodeName {
			addrs = append(addrs, p.Gossip)
		}
	}
	if len(addrs) == 0 {
		return
	}
	lastErr := ""
	for {
		if _, err := d.ml.Join(addrs); err == nil {
			d.mu.Lock()
			d.joined = true
			d.mu.Unlock()
			d.log.Info("joined gossip", "peers", addrs)
			return
		} else if err.Error() != lastErr {
			lastErr = err.Error()
			d.log.Warn("gossip join failed; retrying every second", "err", err)
		}
		select {
		case <-d.done:
			return
		case <-time.After(time.Second):
		}
		if len(d.ml.Members()) > 1 {
			return // somebody else joined us
		}
	}
}

// Wait blocks until ctx ends or a shutdown is requested through the API,
// then stops gracefully.
func (d *Daemon) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		d.log.Info("signal received: shutting down")
	case why := <-d.shutdown:
		d.log.Info("shutdown requested", "reason", why)
	}
	return d.Stop()
}

// Stop leaves gossip, hands Raft leadership over if this node holds it,
// and closes everything. Safe to call twice.
func (d *Daemon) Stop() error {
	var errs []error
	d.stopOnce.Do(func() {
		d.drain()
		close(d.done)
		if err := d.ml.Leave(2 * time.Second); err != nil {
			d.log.Warn("leave gossip", "err", err)
		}
		if d.st.IsLeader() {
			if err := d.st.TransferLeadership(); err != nil {
				d.log.Warn("leadership transfer failed; the others will elect a leader after a timeout", "err", err)
			} else {
				d.log.Info("handed Raft leadership over")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d.tcpSrv.Shutdown(ctx)
		d.unixSrv.Shutdown(ctx)
		d.stopMetrics(ctx)
		os.Remove(d.cfg.Socket)
		d.mu.Lock()
		for _, c := range d.peerClients {
			c.Close()
		}
		d.mu.Unlock()
		d.exec.Close()
		if d.closeAgents != nil {
			d.closeAgents()
		}
		if err := d.ml.Shutdown(); err != nil {
			errs = append(errs, err)
		}
		if err := d.st.Close(); err != nil {
			errs = append(errs, err)
		}
		d.log.Info("pacerd stopped")
	})
	return errors.Join(errs...)
}

// requestShutdown is called by the API's shutdown endpoint.
func (d *Daemon) requestShutdown(reason string) {
	select {
	case d.shutdown <- reason:
	default:
	}
}
