package membership

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/memberlist"
)

// Profile names a set of failure-detector timings.
type Profile string

const (
	// ProfileFast ("lan-fast", the default) detects a crashed peer in well
	// under a second on a LAN: about 0.45 s for 3 nodes.
	ProfileFast Profile = "lan-fast"
	// ProfileLAN is memberlist.DefaultLANConfig unchanged: about 5 s to
	// detect a crash, more tolerant of loaded machines and lossy links.
	ProfileLAN Profile = "lan"
)

// Timing is the part of memberlist's configuration that decides how fast a
// failure is detected and how much traffic that costs.
type Timing struct {
	// ProbeInterval is how often this node probes one peer (round robin).
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct UDP ping may take before indirect
	// pings through other peers (and a TCP ping) are tried.
	ProbeTimeout time.Duration
	// SuspicionMult: a suspect peer is declared down after
	// SuspicionMult × max(1, log10 N) × ProbeInterval unless it refutes.
	SuspicionMult int
	// SuspicionMaxTimeoutMult caps how far the suspicion timeout may be
	// stretched while waiting for confirmations from other peers.
	SuspicionMaxTimeoutMult int
	// GossipInterval is how often queued state changes are gossiped.
	GossipInterval time.Duration
	// PushPullInterval is how often a full state sync (anti-entropy) runs
	// with one random peer; it repairs anything lost from UDP gossip.
	PushPullInterval time.Duration
	// TCPTimeout bounds a join dial, a push/pull exchange and any stream
	// connection.
	TCPTimeout time.Duration
}

// TimingFor returns the timings of a profile; "" means ProfileFast.
//
// lan-fast probes every 100 ms with a 50 ms direct-ping timeout and keeps a
// peer suspect for SuspicionMult 3 × 100 ms. The multiplier of 3 is what
// makes a "down" a confirmed one: memberlist then waits for one more
// member to suspect the peer on its own (k = SuspicionMult − 2 = 1) before
// it shortens the suspicion to its 300 ms minimum, and holds it for up to
// SuspicionMaxTimeoutMult × 300 ms = 1.8 s on one member's word alone.
// A crashed node of 3 is down for everyone in about 0.45 s (both survivors
// fail their probes within a round of 2 × 100 ms); a node that stalls is
// fenced only if two peers miss it and it does not refute for 300 ms.
// (The first profile, probe 200 ms, timeout 100 ms, SuspicionMult 2, took
// 0.6–0.9 s on the LXC bed and trusted a single member's suspicion.)
// With 2 nodes there is no one to confirm, and memberlist uses the minimum.
//
// To keep it stable:
//   - SuspicionMaxTimeoutMult stays at memberlist's 6;
//   - PushPullInterval 5 s instead of 30 s, so a lost gossip message (a meta
//     update, the leave flag) is repaired quickly; at pacer's sizes
//     (≤ 32 nodes) a push/pull is one small TCP exchange;
//   - TCPTimeout 3 s instead of 10 s: a LAN peer answers a connect in under a
//     millisecond, and Join against a powered-off peer should fail in
//     seconds; 3 s still covers a long GC or scheduling stall.
//
// memberlist's Lifeguard awareness (AwarenessMaxMultiplier 8) is kept: a node
// that itself is slow stretches its probe interval rather than accusing its
// peers.
func TimingFor(p Profile) (Timing, error) {
	switch p {
	case ProfileFast, "":
		return Timing{
			ProbeInterval:           100 * time.Millisecond,
			ProbeTimeout:            50 * time.Millisecond,
			SuspicionMult:           3,
			SuspicionMaxTimeoutMult: 6,
			GossipInterval:          50 * time.Millisecond,
			PushPullInterval:        5 * time.Second,
			TCPTimeout:              3 * time.Second,
		}, nil
	case ProfileLAN:
		c := memberlist.DefaultLANConfig()
		return Timing{
			ProbeInterval:           c.ProbeInterval,
			ProbeTimeout:            c.ProbeTimeout,
			SuspicionMult:           c.SuspicionMult,
			SuspicionMaxTimeoutMult: c.SuspicionMaxTimeoutMult,
			GossipInterval:          c.GossipInterval,
			PushPullInterval:        c.PushPullInterval,
			TCPTimeout:              c.TCPTimeout,
		}, nil
	}
	return Timing{}, fmt.Errorf("membership: unknown profile %q (want %q or %q)", p, ProfileFast, ProfileLAN)
}

// MemberlistConfig returns memberlist.DefaultLANConfig with the profile's
// timings applied. New fills in the name, addresses, key, logger and
// delegates; everything else is memberlist's LAN default.
func MemberlistConfig(p Profile) (*memberlist.Config, error) {
	t, err := TimingFor(p)
	if err != nil {
		return nil, err
	}
	c := memberlist.DefaultLANConfig()
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.GossipInterval = t.GossipInterval
	c.PushPullInterval = t.PushPullInterval
	c.TCPTimeout = t.TCPTimeout
	// Gossip messages are a few hundred bytes on a LAN: LZW costs more
	// CPU (a tenth of an idle node's) than the bytes it saves.
	c.EnableCompression = false
	return c, nil
}

// SuspicionTimeout is how long memberlist keeps a peer suspect, in a cluster
// of n nodes, before declaring it down when no other node confirms the
// suspicion (the same formula as memberlist's).
func (t Timing) SuspicionTimeout(n int) time.Duration {
	scale := math.Max(1, math.Log10(math.Max(1, float64(n))))
	return time.Duration(float64(t.SuspicionMult) * scale * float64(t.ProbeInterval))
}

// maxSuspicion is the longest a peer can stay suspect in memberlist before it
// is either declared down or cleared by a refutation.
func (t Timing) maxSuspicion(n int) time.Duration {
	return time.Duration(t.SuspicionMaxTimeoutMult) * t.SuspicionTimeout(n)
}
