// Package quorum holds the decisions a node makes about quorum on its
// own, without a DC: two-node mode's fence race and takeover, and
// wait-for-all. Like the scheduler, it is pure: the daemon gathers the
// facts (its CIB copy, gossip, Raft, the clock) and carries out the
// answer, so every rule is tested here with a table.
package quorum

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"pacer/crm/cib"
)

// DefaultRaceDelay is how long the loser of the fence race waits before
// it fences, when priority-fencing-delay is unset: long enough for the
// winner to see the loss (under a second with the lan-fast gossip
// profile) and for a fence to complete (0.2-2 s through fence_virtd), so
// that on a link cut the winner's fence lands first and exactly one node
// survives. A real crash of the winner costs the loser this much more.
const DefaultRaceDelay = 2 * time.Second

// Tie says which of the two nodes fences first when each loses the
// other, and why, in words for 'pcsctl status'.
type Tie struct {
	Winner string `json:"winner"`
	Loser  string `json:"loser"`
	Reason string `json:"reason"`
}

// weight is what a node stands to lose: the summed priority of the
// resources it runs (fencing devices aside) (Pacemaker's priority-fencing-delay weighs the same)
// plus the node's own priority attribute, then how many it runs.
type weight struct {
	priority  int
	resources []string
}

// TwoNodeTie decides the fence race between a and b from the CIB both
// share: the node whose resources have the higher total priority (meta
// attribute priority, default from rsc_defaults, plus the node attribute
// priority) fences at once; on equal priority the one running more
// resources; on a full tie the first by name. Both nodes compute it from
// their own copy of the CIB, which they last agreed on, so they agree.
func TwoNodeTie(c *cib.CIB, a, b string) Tie {
	if b < a {
		a, b = b, a
	}
	wa, wb := nodeWeight(c, a), nodeWeight(c, b)
	win, lose, wW, wL := a, b, wa, wb
	switch {
	case wb.priority > wa.priority,
		wb.priority == wa.priority && len(wb.resources) > len(wa.resources):
		win, lose, wW, wL = b, a, wb, wa
	}
	var why string
	switch {
	case wW.priority != wL.priority:
		why = fmt.Sprintf("%s has the higher priority (%d against %d: %s)", win, wW.priority, wL.priority, runs(wW))
	case len(wW.resources) != len(wL.resources):
		why = fmt.Sprintf("%s runs more resources (%s; %s %s)", win, runs(wW), lose, runs(wL))
	default:
		why = fmt.Sprintf("equal priority and resources (%d each): %s wins by name order", len(wW.resources), win)
	}
	return Tie{Winner: win, Loser: lose, Reason: why}
}

func runs(w weight) string {
	switch n := len(w.resources); {
	case n == 0:
		return "runs nothing"
	case n <= 3:
		return "runs " + strings.Join(w.resources, ", ")
	default:
		return fmt.Sprintf("runs %s and %d more", strings.Join(w.resources[:3], ", "), n-3)
	}
}

func nodeWeight(c *cib.CIB, node string) weight {
	var w weight
	if n := c.Config.Node(node); n != nil {
		w.priority += atoi(n.Attributes["priority"])
	}
	ns := c.Status.Nodes[node]
	if ns == nil {
		return w
	}
	def := atoi(c.Config.RscDefaults["priority"])
	for _, p := range c.Config.Primitives() {
		if p.Class == "stonith" {
			// A fencing device runs anywhere and serves no client: it
			// says nothing about which side matters.
			continue
		}
		h := ns.Resources[p.ID]
		if h == nil || !h.Active() {
			continue
		}
		w.resources = append(w.resources, p.ID)
		if v, ok := p.Meta["priority"]; ok {
			w.priority += atoi(v)
		} else {
			w.priority += def
		}
	}
	sort.Strings(w.resources)
	return w
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}

// View is what a node of a two-node cluster knows when it asks whether
// to take over.
type View struct {
	Self, Peer string
	// Enabled: two-node mode is in effect (see Enabled).
	Enabled bool
	// WaitForAll is the wait-for-all property; SeenPeer says whether
	// this daemon has seen the peer alive since it started; Unblocked
	// says an operator ran 'pcsctl quorum unblock'.
	WaitForAll, SeenPeer, Unblocked bool
	// HasLeader: Raft has a leader this node follows (or is).
	HasLeader bool
	// PeerUp: gossip says the peer is alive or only suspect.
	PeerUp bool
	// LostSince is when this node last had both a leader and its peer:
	// the start of the loss.
	LostSince time.Time
	// StonithEnabled is the stonith-enabled property.
	StonithEnabled bool
	Tie            Tie
	// Delay is the loser's wait (priority-fencing-delay, or
	// DefaultRaceDelay when unset).
	Delay time.Duration
	Now   time.Time
}

// Settle is how long a node without a leader and without its peer waits
// before it acts at all: the leader's lease (300 ms with the fast Raft
// profile) must have run out on both sides, so a node that still leads
// has stepped down before its peer decides it is gone.
const Settle = 500 * time.Millisecond

// Step is what to do now.
type Step string

const (
	// Idle: nothing to do (mode off, or a leader exists).
	Idle Step = "idle"
	// Wait: check again at Decision.At.
	Wait Step = "wait"
	// Fence: fence the peer now; on a confirmed fence, become the only
	// voter.
	Fence Step = "fence"
	// Blocked: this node will not take over; Decision.Reason says why
	// and what would change it.
	Blocked Step = "blocked"
)

// Decision is the answer to a View.
type Decision struct {
	Step   Step      `json:"step"`
	At     time.Time `json:"at,omitzero"` // for Wait: when to fence, if nothing changes
	Reason string    `json:"reason"`
}

// Decide is the two-node takeover rule:
//
//   - nothing to do while a leader exists, or the mode is off;
//   - with wait-for-all, a node that has not seen its peer since it
//     started never takes over (the peer may be running everything),
//     until an operator unblocks it;
//   - nothing while the peer is still up in gossip (an election, not a
//     loss);
//   - without fencing it never takes over: it could not know the peer
//     is off, and a link cut would give two clusters;
//   - after Settle, the tie winner fences at once, the loser after
//     Delay more.
func Decide(v View) Decision {
	switch {
	case !v.Enabled:
		return Decision{Step: Idle, Reason: "two-node mode is off"}
	case v.HasLeader:
		return Decision{Step: Idle, Reason: "quorate"}
	case v.WaitForAll && !v.SeenPeer && !v.Unblocked:
		return Decision{Step: Blocked, Reason: fmt.Sprintf("wait-for-all: %s has not seen %s since it started, and %s may be running the resources; start %s, or run 'pcsctl quorum unblock' if it is really off", v.Self, v.Peer, v.Peer, v.Peer)}
	case v.PeerUp:
		return Decision{Step: Wait, Reason: fmt.Sprintf("%s is up; waiting for a leader to be elected", v.Peer)}
	case !v.StonithEnabled:
		return Decision{Step: Blocked, Reason: fmt.Sprintf("%s is gone but stonith-enabled=false: two-node mode takes over only after fencing its peer; configure a fencing device, or add a witness node", v.Peer)}
	}
	start := v.LostSince.Add(Settle)
	if v.Tie.Loser == v.Self {
		start = start.Add(v.Delay)
	}
	if v.Now.Before(start) {
		why := fmt.Sprintf("%s is gone; fencing it at %s", v.Peer, start.Format("15:04:05.000"))
		if v.Tie.Loser == v.Self {
			why += fmt.Sprintf(" (this node loses the fence race: %s; it waits %v so %s can fence first)", v.Tie.Reason, v.Delay, v.Tie.Winner)
		}
		return Decision{Step: Wait, At: start, Reason: why}
	}
	return Decision{Step: Fence, Reason: fmt.Sprintf("%s is gone: fencing it, then carrying on alone", v.Peer)}
}

// Enabled says whether two-node mode is in effect: the two-node property
// when set, otherwise true for a cluster set up with exactly two nodes.
func Enabled(c *cib.CIB, setupNodes int) bool {
	if v, ok := c.Config.Properties["two-node"]; ok {
		return cib.IsTrue(v)
	}
	return setupNodes == 2
}

// RaceDelay is the loser's wait: priority-fencing-delay when set and
// positive, DefaultRaceDelay otherwise.
func RaceDelay(c *cib.CIB) time.Duration {
	if v := c.Config.Properties["priority-fencing-delay"]; v != "" {
		if d, err := cib.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return DefaultRaceDelay
}
