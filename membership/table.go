package membership

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// table is this node's view of the members, fed by memberlist's delegates
// and by the log bridge, and the only producer of events. Each change and its
// event happen under one lock so that events come out in the order the
// states changed.
type table struct {
	mu      sync.Mutex
	members map[string]*entry
	clock   func() time.Time
	log     *slog.Logger
	out     *eventQueue
}

type entry struct {
	Member
	leaving bool // the member's meta said it is leaving (see wireMeta)
	// stale counts sweeps since this node last had a reason to hold the
	// member suspect; see sweep.
	stale int
}

func newTable(clock func() time.Time, log *slog.Logger, out *eventQueue) *table {
	return &table{members: make(map[string]*entry), clock: clock, log: log, out: out}
}

// decode turns a member's raw meta into Meta, keeping the member with empty
// fields if the meta is bad: a peer's bug must not crash us or hide the peer.
func (t *table) decode(name string, raw []byte) (Meta, bool) {
	meta, leaving, err := decodeMeta(raw)
	if err != nil {
		t.log.Error("gossip: member sent meta that could not be decoded; keeping it with empty fields",
			"member", name, "bytes", len(raw), "err", err)
		meta, leaving = Meta{}, false
	}
	// memberlist's node name is the identity; a meta that disagrees does
	// not get to rename the member.
	meta.Name = name
	return meta, leaving
}

func (t *table) emit(typ EventType, e *entry, now time.Time) {
	t.out.push(Event{Type: typ, Member: e.Member, At: now})
}

func (t *table) setState(e *entry, s State, now time.Time) {
	e.State, e.Since, e.stale = s, now, 0
}

// joined: memberlist saw the member alive for the first time, or again after
// it was dead or left.
func (t *table) joined(name, addr string, raw []byte) {
	meta, leaving := t.decode(name, raw)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	e := t.members[name]
	if e == nil {
		e = &entry{}
		t.members[name] = e
	}
	e.Meta, e.Addr, e.leaving = meta, addr, leaving
	t.setState(e, StateAlive, now)
	t.emit(EventUp, e, now)
}

// updated: an alive message with different meta. memberlist accepted a newer
// incarnation, which also clears a suspicion.
func (t *table) updated(name, addr string, raw []byte) {
	meta, leaving := t.decode(name, raw)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	e := t.members[name]
	if e == nil { // not seen before: cannot happen with memberlist, be safe
		e = &entry{Member: Member{Meta: meta, Addr: addr}}
		t.members[name] = e
		t.setState(e, StateAlive, now)
		e.leaving = leaving
		t.emit(EventUp, e, now)
		return
	}
	changed := e.Meta != meta || e.Addr != addr
	e.Meta, e.Addr, e.leaving = meta, addr, leaving
	if e.State == StateSuspect {
		t.setState(e, StateAlive, now)
		t.emit(EventUp, e, now)
	}
	// A change of the leaving flag alone is protocol, not news.
	if changed {
		t.emit(EventUpdated, e, now)
	}
}

// left: memberlist declared the member dead, or it left.
func (t *table) left(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.members[name]
	if e == nil || e.State == StateDead || e.State == StateLeft {
		return
	}
	now := t.clock()
	s := StateDead
	if e.leaving {
		s = StateLeft
	}
	t.setState(e, s, now)
	t.emit(EventDown, e, now)
}

// suspected: this node's probe round found no ack from the member. It
// reports whether the member was alive or suspect, i.e. whether the failed
// probe is news rather than the tail of a round that outlived a "down".
func (t *table) suspected(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.members[name]
	if e == nil {
		return false
	}
	switch e.State {
	case StateAlive:
		now := t.clock()
		t.setState(e, StateSuspect, now)
		t.emit(EventSuspect, e, now)
		return true
	case StateSuspect:
		e.stale = 0 // still failing: keep holding it suspect
		return true
	}
	return false
}

// acked: a direct probe of the member was answered.
func (t *table) acked(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.members[name]
	if e == nil || e.State != StateSuspect {
		return
	}
	now := t.clock()
	t.setState(e, StateAlive, now)
	t.emit(EventUp, e, now)
}

// sweep runs every probe interval. A member held suspect for more than limit
// sweeps, with no new failed probe and no "down", was cleared by memberlist
// (a refutation reached it): memberlist gives no callback for that, and
// limit is longer than memberlist's longest suspicion timeout, after which a
// suspect is always either dead or alive again.
func (t *table) sweep(limit int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var now time.Time
	for _, e := range t.members {
		if e.State != StateSuspect {
			continue
		}
		e.stale++
		if e.stale <= limit {
			continue
		}
		if now.IsZero() {
			now = t.clock()
		}
		t.log.Info("gossip: member is no longer suspect: it was neither declared down nor failed a probe again", "member", e.Name)
		t.setState(e, StateAlive, now)
		t.emit(EventUp, e, now)
	}
}

// live counts members that are alive or suspect (memberlist's idea of N).
func (t *table) live() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.members {
		if e.State.up() {
			n++
		}
	}
	return n
}

func (t *table) get(name string) (Member, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.members[name]
	if e == nil {
		return Member{}, false
	}
	return e.Member, true
}

// list returns every member seen since start, down and left ones included
// (the controller needs to know who is missing), sorted by name.
func (t *table) list() []Member {
	t.mu.Lock()
	out := make([]Member, 0, len(t.members))
	for _, e := range t.members {
		out = append(out, e.Member)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}
