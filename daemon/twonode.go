package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/quorum"
	"pacer/crm/store"
	"pacer/membership"
	"pacer/stonith"
)

// twoNode is this node's side of two-node mode. Two Raft voters have no
// majority once either is gone, so neither can be the DC: the survivor
// fences its peer itself, from its own copy of the CIB, and only on a
// confirmed fence makes itself the only voter (store.ShrinkToSelf), then
// leads; the leader adds the peer back when it returns. The rules are in
// crm/quorum; this carries them out.
type twoNode struct {
	mu        sync.Mutex
	seenPeer  bool      // the peer was alive at least once since start
	unblocked bool      // 'pcsctl quorum unblock'
	lostSince time.Time // when leader and peer were both last lost; zero while either is there
	last      quorum.Decision
	tie       quorum.Tie
	peer      string
	enabled   bool
	delay     time.Duration
	fenceErr  string // the last failed fence of the peer
	// pending holds the fence records made while there was no leader;
	// the node writes them as soon as it leads, before its controller
	// runs, so the DC never fences the peer a second time. Add to it
	// with queue.
	pending []store.Command
}

// maxPendingAttempts bounds the failed fence attempts kept for the next
// leader: an unreachable device is retried every second or so, and hours
// of attempts would make one batch too large to write.
const maxPendingAttempts = 50

// queue keeps cmds for the next time this node leads. Only the newest
// fence record is kept, and only the newest attempts. Callers hold t.mu.
func (t *twoNode) queue(cmds ...store.Command) {
	for _, c := range cmds {
		if isFenceRecord(c) {
			t.pending = slices.DeleteFunc(t.pending, isFenceRecord)
		}
		t.pending = append(t.pending, c)
	}
	n := 0
	for _, c := range t.pending {
		if _, ok := c.(*store.RecordFenceAttempt); ok {
			n++
		}
	}
	t.pending = slices.DeleteFunc(t.pending, func(c store.Command) bool {
		if _, ok := c.(*store.RecordFenceAttempt); ok && n > maxPendingAttempts {
			n--
			return true
		}
		return false
	})
}

// peerReturned forgets a fence record not yet written. The record wipes
// the peer's resource history; written after the peer is back (a
// takeover that fenced but could not shrink Raft, then a normal
// election), it would erase what the peer runs now, and the DC could
// start those resources a second time here. A peer that is back
// announces its own restart, which clears its old history instead.
// Callers hold t.mu.
func (t *twoNode) peerReturned() {
	t.pending = slices.DeleteFunc(t.pending, isFenceRecord)
}

func isFenceRecord(c store.Command) bool {
	_, ok := c.(*store.RecordFence)
	return ok
}

// twoNodePeer is the other node of a cluster of two (not counting a
// witness), or "" otherwise.
func (d *Daemon) twoNodePeer() string {
	var nodes []string
	for _, p := range d.cfg.Peers {
		if !p.Witness {
			nodes = append(nodes, p.Name)
		}
	}
	if len(nodes) != 2 || d.cfg.Witness {
		return ""
	}
	for _, n := range nodes {
		if n != d.cfg.NodeName {
			return n
		}
	}
	return ""
}

// twoNodeOn says whether two-node mode is in effect now: by default
// for two nodes set up without a witness (which gives a real majority). While it is,
// a node without a leader keeps its resources (it counts as quorate
// alone, like corosync's two_node) instead of applying no-quorum-policy.
func (d *Daemon) twoNodeOn(c *cib.CIB) bool {
	return d.twoNodePeer() != "" && quorum.Enabled(c, len(d.cfg.Peers))
}

// twoNodeLoop watches for the loss of the peer and acts on Decide.
func (d *Daemon) twoNodeLoop() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	backoff := time.Time{}
	for {
		select {
		case <-d.done:
			return
		case <-tick.C:
		}
		dec, peer := d.twoNodeDecide()
		if dec.Step != quorum.Fence || d.clock().Before(backoff) {
			continue
		}
		if err := d.twoNodeTakeOver(peer); err != nil {
			d.log.Error("two-node: could not take over; retrying", "peer", peer, "err", err)
			backoff = d.clock().Add(time.Second)
		}
	}
}

// twoNodeDecide gathers the view and asks crm/quorum.
func (d *Daemon) twoNodeDecide() (quorum.Decision, string) {
	cur := d.st.Newest()
	peer := d.twoNodePeer()
	t := &d.two
	now := d.clock()
	leader, _ := d.st.Leader()
	peerUp, peerAlive := false, false
	for _, m := range d.ml.Members() {
		if m.Name == peer && m.Up() {
			peerUp = true
			peerAlive = m.State == membership.StateAlive
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.peer = peer
	t.enabled = d.twoNodeOn(cur)
	if peer == "" {
		t.last = quorum.Decision{Step: quorum.Idle, Reason: "not a two-node cluster"}
		return t.last, ""
	}
	if peerUp {
		t.seenPeer = true
	}
	if peerAlive {
		t.peerReturned()
	}
	if leader != "" || peerUp {
		t.lostSince = time.Time{}
	} else if t.lostSince.IsZero() {
		t.lostSince = now
	}
	t.tie = quorum.TwoNodeTie(cur, d.cfg.NodeName, peer)
	t.delay = quorum.RaceDelay(cur)
	v := quorum.View{
		Self: d.cfg.NodeName, Peer: peer, Enabled: t.enabled,
		WaitForAll: cib.IsTrue(cur.Config.Property("wait-for-all")), SeenPeer: t.seenPeer, Unblocked: t.unblocked,
		HasLeader: leader != "", PeerUp: peerUp, LostSince: t.lostSince,
		StonithEnabled: cib.IsTrue(cur.Config.Property("stonith-enabled")),
		Tie:            t.tie, Delay: t.delay, Now: now,
	}
	dec := quorum.Decide(v)
	if dec.Step != t.last.Step {
		d.log.Info("two-node: "+string(dec.Step), "reason", dec.Reason)
	}
	t.last = dec
	return dec, peer
}

// twoNodeTakeOver fences the peer and, once it is confirmed off, makes
// this node the only voter.
func (d *Daemon) twoNodeTakeOver(peer string) error {
	cur := d.st.Newest()
	// Off, not reboot: a device's reboot answers only once the peer runs
	// again. With stonith-action=reboot the peer is powered on once this
	// node leads (powerOnLater); back alone, wait-for-all keeps it from
	// taking over if the link is still cut.
	action := stonith.ActionOff
	d.log.Warn("two-node: peer lost; fencing it before taking over", "peer", peer, "action", action)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	events, err := d.fencer.Fence(ctx, cur, peer, action, "two-node")
	cancel()
	t := &d.two
	t.mu.Lock()
	if len(events) > 0 {
		t.queue(&store.RecordFenceAttempt{Events: events})
	}
	if err != nil {
		t.fenceErr = err.Error()
		t.mu.Unlock()
		return err
	}
	t.fenceErr = ""
	t.queue(&store.RecordFence{Node: peer, At: d.clock()})
	t.mu.Unlock()
	d.markFenced(peer)
	d.log.Warn("two-node: peer fenced; this node becomes the only Raft voter", "peer", peer)
	if err := d.shrinkAndLead(peer); err != nil {
		return err
	}
	d.powerOnLater(cur, peer, "two-node")
	return nil
}

// shrinkAndLead makes this node the only voter and waits for it to win
// its election (one heartbeat timeout), so the loop does not fence again
// in between.
func (d *Daemon) shrinkAndLead(peer string) error {
	if err := d.st.ShrinkToSelf(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for !d.st.IsLeader() {
		if time.Now().After(deadline) {
			return errors.New("this node is the only voter but did not become leader within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.log.Warn("two-node: this node leads alone", "peer_fenced", peer)
	return nil
}

// flushTwoNode writes the fence records kept while there was no leader.
// The new leader calls it before it starts its controller.
func (d *Daemon) flushTwoNode() {
	t := &d.two
	t.mu.Lock()
	cmds := t.pending
	t.pending = nil
	t.mu.Unlock()
	if len(cmds) == 0 {
		return
	}
	b, err := store.NewBatch(cmds...)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = d.st.Apply(ctx, b)
		cancel()
	}
	if err != nil {
		d.log.Error("two-node: could not record the fencing of the peer", "err", err)
		t.mu.Lock()
		newer := t.pending
		t.pending = nil
		t.queue(cmds...)
		t.queue(newer...)
		t.mu.Unlock()
	}
}

// unblockTwoNode lifts wait-for-all on this node.
func (d *Daemon) unblockTwoNode() {
	d.two.mu.Lock()
	d.two.unblocked = true
	d.two.mu.Unlock()
	d.log.Warn("wait-for-all lifted by an operator: this node may fence its peer and take over without having seen it")
}

// twoNodeStatus is the two-node part of 'pcsctl status', or nil when
// the mode is off.
func (d *Daemon) twoNodeStatus() *api.TwoNodeStatus {
	t := &d.two
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.enabled || t.peer == "" {
		return nil
	}
	return &api.TwoNodeStatus{
		Peer: t.peer, Winner: t.tie.Winner, Loser: t.tie.Loser, TieReason: t.tie.Reason,
		LoserDelay: t.delay.String(), Step: string(t.last.Step), Reason: t.last.Reason,
		WaitForAllMet: t.seenPeer || t.unblocked, LastFenceError: t.fenceErr,
	}
}

// handleUnblock is 'pcsctl quorum unblock': it lifts wait-for-all on the
// node that answers (it is a local decision, never forwarded).
func (d *Daemon) handleUnblock(w http.ResponseWriter, r *http.Request) {
	if d.twoNodePeer() == "" {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: "quorum unblock: this is not a two-node cluster; wait-for-all applies to two-node mode only"})
		return
	}
	d.unblockTwoNode()
	d.twoNodeDecide()
	writeJSON(w, d.twoNodeStatus())
}

// handleConfirmPeer is 'pcsctl stonith confirm PEER' on a two-node
// survivor that has no leader (so cannot write the CIB): the operator
// vouches that the peer is off, and the node takes over as if it had
// fenced it.
func (d *Daemon) handleConfirmPeer(w http.ResponseWriter, r *http.Request) {
	var req api.FenceRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	peer := d.twoNodePeer()
	if dec, _ := d.twoNodeDecide(); peer == "" || req.Node != peer || dec.Step == quorum.Idle {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("confirm %s on this node: only a two-node survivor without a leader confirms its peer locally (peer %q, state %s); otherwise the cluster records the confirmation", req.Node, peer, dec.Step)})
		return
	}
	for _, m := range d.ml.Members() {
		if m.Name == peer && m.State == membership.StateAlive {
			writeErr(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("%s is alive in gossip: it is not off; nothing confirmed", peer)})
			return
		}
	}
	now := d.clock()
	ev := cib.FenceEvent{Target: peer, Action: "off", Executor: "administrator", Origin: "pcsctl stonith confirm",
		Result: "ok", Error: "confirmed by hand, no device used", Start: now, Completion: now}
	d.two.mu.Lock()
	d.two.queue(&store.RecordFenceAttempt{Events: []cib.FenceEvent{ev}}, &store.RecordFence{Node: peer, At: now})
	d.two.mu.Unlock()
	d.log.Warn("two-node: peer confirmed off by an operator; this node becomes the only Raft voter", "peer", peer)
	if err := d.shrinkAndLead(peer); err != nil {
		writeErr(w, &api.Error{Code: api.CodeUnavailable, Message: err.Error()})
		return
	}
	writeJSON(w, d.twoNodeStatus())
}
