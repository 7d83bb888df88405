package store

import (
	"time"

	"github.com/hashicorp/raft"
)

// Timing holds the Raft timeouts that decide how fast a dead leader is
// replaced. A zero field takes the FastTiming value.
type Timing struct {
	// HeartbeatTimeout: a follower that hears nothing from the leader for
	// this long starts an election (after a random extra of up to the
	// same again).
	HeartbeatTimeout time.Duration
	// ElectionTimeout: a candidate that has not won within this long
	// starts a new election.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout: a leader that has not heard from a majority for
	// this long steps down, so an isolated leader stops acting as DC.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout: an idle leader tells followers the commit index at
	// least this often, which bounds how stale a follower's Read is.
	CommitTimeout time.Duration
}

// FastTiming is the default: 300 ms heartbeat and election timeouts, a
// 300 ms leader lease and a 250 ms commit timeout. On loopback a new
// leader was in place about 0.57 s (median, 0.80 s worst of 7) after the
// old one was killed, against 1.68 s with raft's defaults
// (shared/reference/DEPS.md). It suits a LAN; over a slow or lossy link
// use DefaultTiming, or elections will start on mere jitter.
func FastTiming() Timing {
	return Timing{
		HeartbeatTimeout: 300 * time.Millisecond,
		ElectionTimeout:  300 * time.Millisecond,
		// As long as the heartbeat timeout: a shorter lease made a
		// leader on a loaded 2-core machine step down on a short stall.
		LeaderLeaseTimeout: 300 * time.Millisecond,
		// It is also the idle replication tick (one RPC per follower
		// every 1-2x this), a large part of an idle leader's CPU.
		// Followers that must see a fresh write do not wait for it: a
		// consistent read asks the leader (see daemon readCIB).
		CommitTimeout: 250 * time.Millisecond,
	}
}

// DefaultTiming is hashicorp/raft's DefaultConfig: 1 s heartbeat and
// election timeouts, 500 ms lease, 50 ms commit timeout.
func DefaultTiming() Timing {
	d := raft.DefaultConfig()
	return Timing{
		HeartbeatTimeout:   d.HeartbeatTimeout,
		ElectionTimeout:    d.ElectionTimeout,
		LeaderLeaseTimeout: d.LeaderLeaseTimeout,
		CommitTimeout:      d.CommitTimeout,
	}
}

// withDefaults fills zero fields from FastTiming.
func (t Timing) withDefaults() Timing {
	f := FastTiming()
	if t.HeartbeatTimeout == 0 {
		t.HeartbeatTimeout = f.HeartbeatTimeout
	}
	if t.ElectionTimeout == 0 {
		t.ElectionTimeout = f.ElectionTimeout
	}
	if t.LeaderLeaseTimeout == 0 {
		t.LeaderLeaseTimeout = f.LeaderLeaseTimeout
	}
	if t.CommitTimeout == 0 {
		t.CommitTimeout = f.CommitTimeout
	}
	return t
}

// apply copies the timeouts into a raft configuration.
func (t Timing) apply(c *raft.Config) {
	c.HeartbeatTimeout = t.HeartbeatTimeout
	c.ElectionTimeout = t.ElectionTimeout
	c.LeaderLeaseTimeout = t.LeaderLeaseTimeout
	c.CommitTimeout = t.CommitTimeout
}
