package clusterbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// KillPacerd SIGKILLs the node's pacerd and nothing else: its resources
// (haproxy, the VIP) stay as they are, as when the daemon crashes. It
// returns the PIDs it killed.
func (n *Node) KillPacerd() ([]int, error) {
	pids := n.UnitPIDs("pacerd.service")
	if len(pids) == 0 {
		return nil, fmt.Errorf("%s: pacerd.service has no process", n.Name)
	}
	for _, p := range pids {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
			return pids, fmt.Errorf("%s: kill %d: %w", n.Name, p, err)
		}
	}
	return pids, nil
}

// UnitStarts counts how often the node's systemd has reported unit
// started since the domain was defined (console.log outlives reboots):
// the real starts, whatever pacer asked for.
func (n *Node) UnitStarts(unit string) int {
	data, _ := os.ReadFile(filepath.Join(n.Dir, "console.log"))
	c := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "Started "+unit) {
			c++
		}
	}
	return c
}

// ExecutorOps counts the operations op (start, stop, monitor) of rsc
// that the node's executor has run, from pacerd's debug log (it outlives
// pacerd restarts). Probes and recurring monitors count as monitors.
func (n *Node) ExecutorOps(rsc, op string) int {
	c := 0
	for _, l := range strings.Split(n.Log(), "\n") {
		if strings.Contains(l, " msg=operation ") && strings.Contains(l, " rsc="+rsc+" ") && strings.Contains(l, " op="+op+" ") {
			c++
		}
	}
	return c
}

// WaitWeb waits until the group of SetupWeb runs on exactly one node,
// read from the nodes themselves, and that node is want (any node when
// want is ""). It returns the node.
func (b *Bed) WaitWeb(want string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		on, err := b.RunningWeb()
		if err == nil && (want == "" || on == want) {
			return on, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("web runs on " + on)
			}
			return "", fmt.Errorf("after %v: %w (want %q)", timeout, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitDomain waits until libvirt reports the node's domain in state
// ("running", "shutoff").
func (n *Node) WaitDomain(state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := n.DomainState(ctx)
		cancel()
		if err == nil && st == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: domain %q (%v) after %v, want %q", n.Name, st, err, timeout, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
