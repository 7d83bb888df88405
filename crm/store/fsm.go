package store

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"pacer/crm/cib"
)

// FSM is the replicated state machine behind the Store: the current CIB
// and the raft index it reflects. Each command replaces the CIB with a
// new one built by Next (Consul's pattern of swapping in new state), so a
// *cib.CIB handed out by Read never changes underneath its reader, and a
// snapshot can be written while later commands are applied.
//
// raft calls Apply, Snapshot, Restore and StoreConfiguration from one
// goroutine; Read, WaitIndex and Subscribe may be called from any.
type FSM struct {
	log *slog.Logger

	mu    sync.RWMutex
	cur   *cib.CIB
	index uint64
	moved chan struct{} // closed and replaced each time index moves

	undecodable atomic.Uint64 // entries this node could not decode

	subMu  sync.Mutex
	subs   map[chan struct{}]struct{}
	closed bool
}

var (
	_ raft.FSM                = (*FSM)(nil)
	_ raft.ConfigurationStore = (*FSM)(nil)
)

// NewFSM returns an FSM holding an empty CIB at index 0.
func NewFSM(log *slog.Logger) *FSM {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FSM{log: log, cur: cib.New(), moved: make(chan struct{}), subs: map[chan struct{}]struct{}{}}
}

// Apply applies one committed log entry. It returns the new cib.Version,
// or the error that refused the command; raft hands the value to the
// ApplyFuture on the node that proposed it, so the error keeps its
// identity (errors.Is / errors.As) for the caller of Store.Apply.
//
// A refused command still consumes its index, on every node alike: the
// outcome depends only on the entry and the state before it.
func (f *FSM) Apply(l *raft.Log) any {
	cmd, err := Decode(l.Data)
	if err != nil {
		// No panic here, unlike Consul. An entry this node cannot decode
		// is either a command kind from a newer version or corruption.
		// Nodes of one version all refuse it the same way, so their
		// states stay equal; crashing would only take this node down,
		// and it would crash again on every restart while replaying the
		// same entry. Nodes of different versions would diverge, which
		// is why a new command kind must not be proposed until every
		// node runs a version that knows it (the undecodable counter in
		// Stats makes a violation visible).
		f.undecodable.Add(1)
		f.log.Error("raft log entry refused: this node cannot decode it; if nodes run different pacer versions, upgrade this one",
			"index", l.Index, "term", l.Term, "error", err)
		f.advance(l.Index, nil)
		return err
	}
	cur, _ := f.Read()
	next, err := safeNext(f.log, cur, cmd)
	if err != nil {
		// Normally caught by the leader's pre-check; here when two writes
		// raced or the leader's state was behind.
		f.log.Debug("command refused", "index", l.Index, "kind", cmd.Kind(), "error", err)
		f.advance(l.Index, nil)
		return err
	}
	f.advance(l.Index, next)
	f.notify()
	return next.Version
}

// safeNext is Next with a recover: a bug that panics in one command's
// Apply would otherwise crash every node at the same entry, on every
// restart. Recovering refuses the entry instead, identically on every
// node, and Next works on a clone so nothing half-applied survives.
func safeNext(log *slog.Logger, cur *cib.CIB, cmd Command) (next *cib.CIB, err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("command panicked; refused", "kind", cmd.Kind(), "panic", r, "stack", string(debug.Stack()))
			next, err = nil, fmt.Errorf("%w: command %s failed inside pacer (a bug, please report it): %v", ErrInvalid, cmd.Kind(), r)
		}
	}()
	return Next(cur, cmd)
}

// StoreConfiguration is called by raft for membership entries. The CIB
// does not change, but the index moves, so WaitIndex does not hang on
// an index that happens to be a membership change.
func (f *FSM) StoreConfiguration(index uint64, _ raft.Configuration) {
	f.advance(index, nil)
}

// advance records that index has been applied and, when next is not nil,
// makes it the current CIB.
func (f *FSM) advance(index uint64, next *cib.CIB) {
	f.mu.Lock()
	if next != nil {
		f.cur = next
	}
	f.index = index
	close(f.moved)
	f.moved = make(chan struct{})
	f.mu.Unlock()
}

// Read returns the current CIB and the raft index it reflects. The CIB is
// shared and immutable: callers must not modify it (Clone it first).
func (f *FSM) Read() (*cib.CIB, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cur, f.index
}

// WaitIndex blocks until the FSM has applied index, or ctx ends.
//
// Only entries that reach the FSM move its index: commands and membership
// changes. Raft's internal no-op entry at the start of each term does not,
// so an index taken from Result.Index is always reached, while a leader's
// raw commit index may be reached only with the next command.
func (f *FSM) WaitIndex(ctx context.Context, index uint64) error {
	return f.waitIndex(ctx, index, nil)
}

// waitIndex is WaitIndex that also gives up, with ErrClosed, when done
// is closed.
func (f *FSM) waitIndex(ctx context.Context, index uint64, done <-chan struct{}) error {
	for {
		f.mu.RLock()
		have, moved := f.index, f.moved
		f.mu.RUnlock()
		if have >= index {
			return nil
		}
		select {
		case <-moved:
		case <-done:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("wait for raft index %d (applied %d): %w", index, have, ctx.Err())
		}
	}
}

// Subscribe returns a channel that receives a signal after every change
// of the CIB (an accepted command or a restored snapshot). Signals are
// coalesced: the buffer holds one, so a slow reader sees one signal for
// many changes and should Read the latest state. cancel stops and closes
// the channel; closing the FSM closes every channel.
func (f *FSM) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.subMu.Lock()
	defer f.subMu.Unlock()
	if f.closed {
		close(ch)
		return ch, func() {}
	}
	f.subs[ch] = struct{}{}
	return ch, func() {
		f.subMu.Lock()
		defer f.subMu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}
}

func (f *FSM) notify() {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// closeSubscribers ends every subscription; used when the store closes.
func (f *FSM) closeSubscribers() {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	f.subs = map[chan struct{}]struct{}{}
}
