package store

import (
	"fmt"
	"log/slog"
	"pacer/crm/cib"

	"github.com/hashicorp/raft"
)

// This file is two-node mode's way out of a lost majority: a survivor
// that has fenced its peer makes itself the only voter. Raft has no way
// to change its configuration without a leader, and a two-voter cluster
// that lost one voter has none, so the change is made the way
// hashicorp/raft's manual recovery makes it: stop raft, rewrite the
// configuration in a snapshot of the log, start raft again.

// r is the running raft instance.
func (s *Store) r() *raft.Raft { return s.raftp.Load() }

// keepOpen hides the transport's Close from raft, which would otherwise
// close it on Shutdown: ShrinkToSelf restarts raft on the same transport
// (and its listener), so peers need not learn a new address. It keeps
// raft.Transport and pre-vote, the only optional interface raft uses.
type keepOpen struct{ preVoteTransport }

type preVoteTransport interface {
	raft.Transport
	raft.WithPreVote
}

// ShrinkToSelf makes this node the only voter of the Raft configuration
// and restarts raft, which then elects this node at once. Every entry in
// the local log is kept, including any not yet committed (a client that
// sent one was told it may have been applied).
//
// It is only safe when every other voter is known to be off, fenced, and
// so cannot form a majority of its own: two-node mode calls it after a
// confirmed fence of the peer. The peer, when it comes back, is no longer
// in the configuration (its votes are ignored) and is added back by the
// leader as a non-voter, then promoted.
func (s *Store) ShrinkToSelf() error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.closed() {
		return ErrClosed
	}
	old := s.r()
	old.DeregisterObserver(s.observer)
	// The peer is fenced or cut off: RPCs still waiting on it would hold
	// Shutdown for their I/O deadline.
	s.stream.dropConns()
	if err := old.Shutdown().Error(); err != nil {
		return fmt.Errorf("stop raft to shrink the configuration: %w", err)
	}
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter,
		ID:       raft.ServerID(s.cfg.NodeID),
		Address:  raft.ServerAddress(s.Addr()),
	}}}
	trans := keepOpen{s.trans}
	// The FSM given here only replays the log to take the snapshot that
	// carries the new configuration; the live one is restored from that
	// snapshot by NewRaft below.
	scratch := NewFSM(slog.New(slog.DiscardHandler))
	recErr := raft.RecoverCluster(s.rc, scratch, s.logs, s.bolt, s.snaps, trans, conf)
	if recErr != nil {
		s.log.Error("could not rewrite the raft configuration; restarting raft unchanged", "err", recErr)
	}
	r, err := raft.NewRaft(s.rc, s.fsm, s.logs, s.bolt, s.snaps, trans)
	if err != nil {
		// Nothing can run raft now: the node must be restarted.
		return fmt.Errorf("restart raft after shrinking the configuration: %w", err)
	}
	r.RegisterObserver(s.observer)
	s.raftp.Store(r)
	if recErr != nil {
		return fmt.Errorf("shrink the raft configuration to %s: %w", s.cfg.NodeID, recErr)
	}
	s.log.Warn("raft configuration shrunk to this node alone", "node", s.cfg.NodeID)
	return nil
}

// Newest is the CIB with every command in this node's log applied, the
// ones not known to be committed included. A node restarted without a
// leader has applied only its last snapshot (raft applies an entry once
// it learns the commit index, from a leader); two-node mode decides from
// this instead, so that a lone survivor sees the fencing devices and
// properties it last wrote, as RecoverCluster will keep them.
func (s *Store) Newest() *cib.CIB {
	x, idx := s.fsm.Read()
	last, err := s.logs.LastIndex()
	if err != nil || last <= idx {
		return x
	}
	for i := idx + 1; i <= last; i++ {
		var l raft.Log
		if err := s.logs.GetLog(i, &l); err != nil {
			break
		}
		if l.Type != raft.LogCommand {
			continue
		}
		cmd, err := Decode(l.Data)
		if err != nil {
			continue
		}
		if next, err := safeNext(s.log, x, cmd); err == nil {
			x = next
		}
	}
	return x
}
