// Package cluster_test runs real pacerd processes on 127.0.0.1: real
// memberlist gossip, real Raft over TLS, real unix-socket and TLS APIs.
package cluster_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"pacer/test/testbed"
)

var bins testbed.Binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pacer-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = testbed.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startCluster starts n nodes and waits for a leader; the processes are
// killed when the test ends, pass or fail, and their logs shown on failure.
func startCluster(t *testing.T, n int, extra string) (*testbed.Cluster, string) {
	t.Helper()
	return startClusterOpts(t, testbed.Options{Nodes: n, Extra: extra})
}

// startClusterOpts is startCluster with every testbed option (a witness).
func startClusterOpts(t testing.TB, o testbed.Options) (*testbed.Cluster, string) {
	t.Helper()
	c, err := newClusterOpts(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c.Cluster, waitLeader(t, c.Cluster)
}

type clusterT struct{ *testbed.Cluster }

// newCluster sets up n nodes whose processes are killed when the test
// ends, pass or fail, with their logs shown on failure.
func newCluster(t *testing.T, n int, extra string) (*clusterT, error) {
	return newClusterOpts(t, testbed.Options{Nodes: n, Extra: extra})
}

func newClusterOpts(t testing.TB, o testbed.Options) (*clusterT, error) {
	c, err := testbed.New(t.TempDir(), bins, o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			for _, nd := range c.Nodes {
				t.Logf("--- log of %s ---\n%s", nd.Name, lastLines(nd.Log(), 400))
			}
		}
	})
	return &clusterT{c}, nil
}

func waitLeader(t testing.TB, c *testbed.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return leader
}

func lastLines(s string, n int) string {
	lines := []rune(s)
	count := 0
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] == '\n' {
			count++
			if count > n {
				return string(lines[i+1:])
			}
		}
	}
	return s
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}
