package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"pacer/pki"
)

// wait is the deadline for anything a cluster test waits for: generous,
// since a loaded 2-core CI machine under -race is slow; tests never
// assert speed.
const wait = 20 * time.Second

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// tbWriter sends log lines to the test log until the test ends; raft
// goroutines may still log while they shut down, and testing panics on a
// Log after the test has completed.
type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(tb testing.TB, level slog.Level) *slog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(func() { // registered first, so it runs after every Close
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testCA is a cluster CA that issues node certificates.
type testCA struct{ cert, key []byte }

func newTestCA(tb testing.TB, name string) testCA {
	tb.Helper()
	c, k, err := pki.NewCA(name, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return testCA{c, k}
}

func (ca testCA) tls(tb testing.TB, node string) *tls.Config {
	tb.Helper()
	cert, key, err := pki.Issue(ca.cert, ca.key, node, []string{"127.0.0.1"}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := pki.Config(ca.cert, cert, key)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// cluster is a set of real stores on 127.0.0.1: real raft, real TCP with
// mutual TLS, real bolt files.
type cluster struct {
	tb     testing.TB
	ca     testCA
	log    *slog.Logger
	mod    func(*Config)
	stores map[string]*Store // open stores by id
	dirs   map[string]string
	base   string // parent of the data directories, removed after closeAll
	addrs  map[string]string
}

// newCluster starts n voters (n1..nn) bootstrapped with one shared list.
// mod may adjust each node's Config.
func newCluster(tb testing.TB, n int, level slog.Level, mod func(*Config)) *cluster {
	tb.Helper()
	c := &cluster{
		tb: tb, ca: newTestCA(tb, "test"), log: testLogger(tb, level), mod: mod,
		stores: map[string]*Store{}, dirs: map[string]string{}, addrs: map[string]string{},
	}
	// The parent directory is made (so removed) before closeAll is
	// registered: cleanups run last-in first-out, so every store is
	// closed before its files go.
	c.base = tb.TempDir()
	tb.Cleanup(c.closeAll)
	var boot []Server
	lns := map[string]net.Listener{}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns[id] = ln
		boot = append(boot, Server{ID: id, Addr: ln.Addr().String(), Voter: true})
	}
	for _, s := range boot {
		c.start(s.ID, Config{Listener: lns[s.ID], Bootstrap: boot})
	}
	return c
}

// start opens node id with the cluster's defaults under cfg; a node
// started before reuses its data directory and address.
func (c *cluster) start(id string, cfg Config) *Store {
	c.tb.Helper()
	cfg.NodeID = id
	if c.dirs[id] == "" {
		dir, err := os.MkdirTemp(c.base, id+"-")
		if err != nil {
			c.tb.Fatal(err)
		}
		c.dirs[id] = dir
	}
	cfg.DataDir = c.dirs[id]
	if cfg.Listener == nil && cfg.BindAddr == "" {
		cfg.BindAddr = "127.0.0.1:0"
		if a := c.addrs[id]; a != "" {
			cfg.BindAddr = a
		}
	}
	if cfg.TLS == nil {
		cfg.TLS = c.ca.tls(c.tb, id)
	}
	cfg.Logger = c.log.With("node", id)
	if c.mod != nil {
		c.mod(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		c.tb.Fatalf("open %s: %v", id, err)
	}
	c.stores[id] = s
	c.addrs[id] = s.Addr()
	return s
}

// kill closes a node without handing over leadership, as a crash would.
func (c *cluster) kill(id string) {
	c.tb.Helper()
	if err := c.stores[id].Close(); err != nil {
		c.tb.Errorf("close %s: %v", id, err)
	}
	delete(c.stores, id)
}

func (c *cluster) closeAll() {
	for id := range c.stores {
		c.kill(id)
	}
}

// leader waits until one open store leads and every other open store
// names it as leader, and returns it.
func (c *cluster) leader() *Store {
	c.tb.Helper()
	var last string
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		var lead *Store
		agree := true
		for _, s := range c.stores {
			if s.IsLeader() {
				lead = s
			}
		}
		if lead != nil {
			for _, s := range c.stores {
				if id, _ := s.Leader(); id != lead.ID() {
					agree = false
				}
			}
			if agree {
				return lead
			}
		}
		last = c.describe()
		time.Sleep(20 * time.Millisecond)
	}
	c.tb.Fatalf("no agreed leader within %v: %s", wait, last)
	return nil
}

func (c *cluster) describe() string {
	var b strings.Builder
	for id, s := range c.stores {
		l, _ := s.Leader()
		fmt.Fprintf(&b, "%s=%s(leader %q) ", id, s.State(), l)
	}
	return b.String()
}

func (c *cluster) followers(lead *Store) []*Store {
	var out []*Store
	for _, s := range c.stores {
		if s != lead {
			out = append(out, s)
		}
	}
	return out
}

func ctxWait(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	tb.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not within %v: %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
