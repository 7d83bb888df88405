package clusterbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pacer/api"
	"pacer/pcs"
	"pacer/test/testbed"
)

// setupCluster runs 'pcsctl cluster setup' (pcs.Setup) for the nodes,
// with gossip, Raft and the API on each node's eth0 address at the
// default ports, and moves each node's config directory to NODEDIR/pacer
// (/run/testbed/host/pacer inside). Data lives in NODEDIR/data, which
// outlives the domain: a node powered on again after a fence rejoins
// with its Raft state.
func (b *Bed) setupCluster() error {
	var sn []pcs.SetupNode
	for _, n := range b.Nodes {
		sn = append(sn, pcs.SetupNode{Name: n.Name, Host: n.Addr, Gossip: pcs.DefaultGossipPort, Raft: pcs.DefaultRaftPort, APIPort: pcs.DefaultAPIPort})
	}
	dir := filepath.Join(b.Dir, "cluster")
	if err := pcs.Setup(pcs.SetupOptions{Name: "bed", Nodes: sn, Dir: dir, DataDir: "/run/testbed/host/data",
		Socket: NodeSocket, Now: time.Now()}); err != nil {
		return fmt.Errorf("cluster setup: %w", err)
	}
	for _, n := range b.Nodes {
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(dir, n.Name), filepath.Join(n.Dir, "pacer")); err != nil {
			return err
		}
		if b.opts.PacerdExtra != "" {
			if err := testbed.InsertTopLevel(filepath.Join(n.Dir, "pacer", "pacerd.toml"), b.opts.PacerdExtra); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitLeader waits until every running node answers, names the same DC,
// and that DC's CIB lists every node; it returns the DC's name.
func (b *Bed) WaitLeader(ctx context.Context) (string, error) {
	return testbed.PollLeader(ctx, b.agreedLeader)
}

func (b *Bed) agreedLeader(ctx context.Context) (string, error) {
	leader := ""
	for _, n := range b.Nodes {
		if _, err := n.PID(); err != nil {
			continue
		}
		st, x, err := n.status(ctx)
		if err != nil {
			return "", err
		}
		if leader, err = testbed.AgreeLeader(leader, n.Name, st, x, len(b.Nodes)); err != nil {
			return "", err
		}
	}
	if leader == "" {
		return "", errors.New("no node running")
	}
	return leader, nil
}

func (n *Node) status(ctx context.Context) (*api.StatusResponse, *api.CIBResponse, error) {
	cl, err := n.API()
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	cx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := cl.Status(cx)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	x, err := cl.CIB(cx, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return st, x, nil
}

// DC returns the DC as the given node sees it.
func (n *Node) DC(ctx context.Context) (string, error) {
	st, _, err := n.status(ctx)
	if err != nil {
		return "", err
	}
	return st.DC, nil
}

// Running returns the nodes whose domain runs a systemd.
func (b *Bed) Running() []*Node {
	var out []*Node
	for _, n := range b.Nodes {
		if _, err := n.PID(); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// NotDC returns a running node other than the DC, for fencing tests (the
// DC does not fence itself).
func (b *Bed) NotDC(ctx context.Context) (*Node, error) {
	dc, err := b.WaitLeader(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range b.Running() {
		if n.Name != dc {
			return n, nil
		}
	}
	return nil, fmt.Errorf("every running node is the DC (%s)", dc)
}
