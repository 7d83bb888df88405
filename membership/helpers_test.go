package membership

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
)

// wait is the generous deadline of every cluster test: they check what
// happens, never how fast (BenchmarkDetectCrash measures speed).
const wait = 10 * time.Second

// logCapture is a slog.Handler that keeps records for assertions. It never
// writes to t.Log: memberlist goroutines may log after a test has ended.
type logCapture struct {
	mu   sync.Mutex
	recs []string // "LEVEL message k=v ..."
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	c.mu.Lock()
	c.recs = append(c.recs, b.String())
	c.mu.Unlock()
	return nil
}

// find returns the first record containing all the parts.
func (c *logCapture) find(parts ...string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if containsAll(r, parts...) {
			return r, true
		}
	}
	return "", false
}

func (c *logCapture) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.recs, "\n")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// node is a Membership on 127.0.0.1 with its log and event history.
type node struct {
	*Membership
	logs *logCapture

	mu   sync.Mutex
	seen []Event
	done chan struct{}
}

func metaFor(name string) Meta {
	return Meta{Name: name, RaftAddr: name + ":7000", APIAddr: name + ":7443", Version: "test"}
}

func startNode(tb testing.TB, name string, key []byte) *node {
	tb.Helper()
	logs := &logCapture{}
	m, err := New(Config{
		Meta:     metaFor(name),
		BindAddr: "127.0.0.1",
		Key:      key,
		Logger:   slog.New(logs),
	})
	if err != nil {
		tb.Fatalf("New(%s): %v", name, err)
	}
	n := &node{Membership: m, logs: logs, done: make(chan struct{})}
	go func() { // keep the history; ends when Shutdown closes Events
		defer close(n.done)
		for ev := range m.Events() {
			n.mu.Lock()
			n.seen = append(n.seen, ev)
			n.mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			tb.Errorf("Shutdown(%s): %v", name, err)
		}
		<-n.done
		if tb.Failed() {
			tb.Logf("log of %s:\n%s", name, logs.dump())
		}
	})
	return n
}

// events returns a copy of the history.
func (n *node) events() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.seen)
}

// waitEvent waits for an event about member with the given type.
func (n *node) waitEvent(tb testing.TB, typ EventType, member string) Event {
	tb.Helper()
	var got Event
	eventually(tb, func() bool {
		for _, ev := range n.events() {
			if ev.Type == typ && ev.Member.Name == member {
				got = ev
				return true
			}
		}
		return false
	}, "%s: no %s event for %s; saw %v", n.name, typ, member, n.events())
	return got
}

func eventually(tb testing.TB, cond func() bool, format string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf(format, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// aliveNames lists the members n sees alive.
func aliveNames(n *node) []string {
	var names []string
	for _, mb := range n.Members() {
		if mb.State == StateAlive {
			names = append(names, mb.Name)
		}
	}
	return names
}

// startCluster starts count nodes, joins them through the first, and waits
// until every node sees all of them alive.
func startCluster(tb testing.TB, count int) []*node {
	tb.Helper()
	nodes := make([]*node, count)
	var names []string
	for i := range nodes {
		nodes[i] = startNode(tb, fmt.Sprintf("n%d", i+1), testKey)
		names = append(names, nodes[i].name)
	}
	for _, n := range nodes[1:] {
		if k, err := n.Join([]string{nodes[0].Addr()}); err != nil || k != 1 {
			tb.Fatalf("%s: Join = %d, %v", n.name, k, err)
		}
	}
	for _, n := range nodes {
		eventually(tb, func() bool { return slices.Equal(aliveNames(n), names) },
			"%s sees alive %v, want %v", n.name, aliveNames(n), names)
	}
	return nodes
}
