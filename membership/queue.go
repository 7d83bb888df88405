package membership

import (
	"log/slog"
	"sync"
)

// eventQueue is the Events channel plus the rule that memberlist is never
// blocked by it: memberlist calls our delegates with its node lock held, so a
// blocked send would stop failure detection for the whole node. When the
// buffer is full the oldest event is dropped: the newest state of a member
// matters more than its history, and Members() is always current.
type eventQueue struct {
	mu     sync.Mutex
	ch     chan Event
	closed bool
	log    *slog.Logger
}

func newEventQueue(size int, log *slog.Logger) *eventQueue {
	return &eventQueue{ch: make(chan Event, size), log: log}
}

// push never blocks. After close it does nothing: memberlist timers and
// handlers may still fire for a moment after Shutdown.
func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	for {
		select {
		case q.ch <- ev:
			return
		default:
		}
		// Full. Only push sends (under q.mu), so after one receive there is
		// room, unless the reader took one meanwhile, which also makes room.
		select {
		case old := <-q.ch:
			q.log.Warn("gossip: event buffer full, dropping the oldest event; read Events faster or raise EventBuffer",
				"dropped", old.Type.String(), "member", old.Member.Name, "capacity", cap(q.ch))
		default:
		}
	}
}

// close ends the channel so that range loops over Events finish.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}
