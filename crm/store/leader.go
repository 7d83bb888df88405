package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// This file is the leadership side of the Store: who leads, how a
// change of leader is announced, and how leadership is handed over.

// Barrier blocks until every entry committed before the call has been
// applied to this node's FSM. A new leader (the DC) calls it before it
// schedules, so it acts on the whole CIB. Leader only.
func (s *Store) Barrier(ctx context.Context) error {
	timeout := s.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := waitFuture(ctx, s.r().Barrier(timeout)); err != nil {
		return fmt.Errorf("raft barrier: %w", s.raftErr(err))
	}
	return nil
}

// ReadIndex returns an index a follower must reach before a read that
// reflects every write acknowledged so far (Raft's read-index method):
// the leader first confirms with a quorum that it still leads, so a
// deposed leader cannot hand out a stale index. Leader only.
func (s *Store) ReadIndex(ctx context.Context) (uint64, error) {
	if s.r().State() != raft.Leader {
		return 0, s.notLeader()
	}
	if err := waitFuture(ctx, s.r().VerifyLeader()); err != nil {
		return 0, fmt.Errorf("confirm leadership: %w", s.raftErr(err))
	}
	_, idx := s.fsm.Read()
	return idx, nil
}

// Leader returns the current leader's id and address, empty when none is
// known.
//
// Raft enters the leader state a moment before it records itself as the
// leader; in between, a caller that has just seen IsLeader would be told
// there is no leader (two-node mode fenced its peer a second time in
// that window), so this node's own leadership is answered from its state.
func (s *Store) Leader() (id, addr string) {
	r := s.r()
	a, i := r.LeaderWithID()
	if i == "" && r.State() == raft.Leader {
		return s.cfg.NodeID, s.Addr()
	}
	return string(i), string(a)
}

// IsLeader reports whether this node is the raft leader now.
func (s *Store) IsLeader() bool { return s.r().State() == raft.Leader }

// State is raft's state name: Follower, Candidate, Leader or Shutdown.
func (s *Store) State() string { return s.r().State().String() }

// LastContact is when this node last heard from the leader (zero if
// never; now on the leader). A follower uses it to decide it has lost
// quorum.
func (s *Store) LastContact() time.Time {
	if s.IsLeader() {
		return time.Now()
	}
	return s.r().LastContact()
}

// TransferLeadership hands leadership to the most up-to-date voter and
// waits until it has taken over. Call it before a planned shutdown:
// Close alone looks like a crash and costs an election timeout.
func (s *Store) TransferLeadership() error {
	if s.r().State() != raft.Leader {
		return s.notLeader()
	}
	if err := s.r().LeadershipTransfer().Error(); err != nil {
		return fmt.Errorf("leadership transfer: %w", s.raftErr(err))
	}
	return nil
}

// LeaderChanges returns a channel that carries whether this node is the
// leader: the current value at once, then each change. Values are
// coalesced (buffer 1, latest wins), so a slow reader sees the newest
// state, not every flip. A node that becomes leader should call Barrier
// before acting as DC. cancel closes the channel; Close closes all.
func (s *Store) LeaderChanges() (<-chan bool, func()) {
	return s.leader.subscribe(s.IsLeader)
}

// watchLeader turns raft observations into LeaderChanges values. It
// reads the state afresh on each observation rather than trusting the
// observation's content, so a dropped observation cannot leave a stale
// value behind.
func (s *Store) watchLeader() {
	defer s.wg.Done()
	for {
		select {
		case <-s.obsCh:
			s.leader.publish(s.IsLeader())
		case <-s.done:
			return
		}
	}
}

// leaderFanout delivers the leader flag to LeaderChanges subscribers.
// It remembers what each subscriber was last sent, so that every
// subscriber ends at the state read after the last observation, whatever
// the interleaving of subscribe and publish.
type leaderFanout struct {
	mu     sync.Mutex
	subs   map[chan bool]bool // value: last sent
	closed bool
}

func (l *leaderFanout) subscribe(now func() bool) (<-chan bool, func()) {
	ch := make(chan bool, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		close(ch)
		return ch, func() {}
	}
	v := now()
	ch <- v
	l.subs[ch] = v
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.subs[ch]; ok {
			delete(l.subs, ch)
			close(ch)
		}
	}
}

func (l *leaderFanout) publish(v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch, last := range l.subs {
		if last == v {
			continue
		}
		select { // replace a value not yet read: only the latest matters
		case <-ch:
		default:
		}
		ch <- v // cannot block: the buffer is empty and only we send
		l.subs[ch] = v
	}
}

func (l *leaderFanout) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for ch := range l.subs {
		close(ch)
	}
	l.subs = nil
}
