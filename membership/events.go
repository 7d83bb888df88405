package membership

import (
	"fmt"
	"time"
)

// State is what this node believes about a member.
type State int

const (
	// StateAlive: the member answers probes (or nobody has said otherwise).
	StateAlive State = iota + 1
	// StateSuspect: this node's probes of the member failed; memberlist
	// gives it a short time to refute before declaring it down.
	StateSuspect
	// StateDead: the member was declared failed. It may still be running
	// (a partition, a stall): this is not a fencing confirmation.
	StateDead
	// StateLeft: the member left on purpose (Leave).
	StateLeft
)

var stateNames = [...]string{StateAlive: "alive", StateSuspect: "suspect", StateDead: "dead", StateLeft: "left"}

func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText makes States read as words in JSON (status API, logs).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n != "" && n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("membership: unknown state %q", b)
}

// Member is one node as this node sees it.
type Member struct {
	Meta
	// Addr is the member's gossip address, host:port.
	Addr string
	// State is this node's current belief about the member.
	State State
	// Since is when State last changed (Config.Clock).
	Since time.Time
}

// Up reports whether the member counts as present: alive, or suspect
// and not yet declared dead (it may still refute).
func (m Member) Up() bool { return m.State.up() }

func (s State) up() bool { return s == StateAlive || s == StateSuspect }

// EventType says what changed.
type EventType int

const (
	// EventUp: a member joined, came back, or is no longer suspect.
	EventUp EventType = iota + 1
	// EventSuspect: this node's probes of the member failed.
	EventSuspect
	// EventDown: the member was declared dead (Member.State == StateDead)
	// or left gracefully (Member.State == StateLeft).
	EventDown
	// EventUpdated: the member's Meta changed.
	EventUpdated
)

var eventNames = [...]string{EventUp: "up", EventSuspect: "suspect", EventDown: "down", EventUpdated: "updated"}

func (t EventType) String() string {
	if t > 0 && int(t) < len(eventNames) {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// MarshalText makes event types read as words in JSON.
func (t EventType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (t *EventType) UnmarshalText(b []byte) error {
	for i, n := range eventNames {
		if n != "" && n == string(b) {
			*t = EventType(i)
			return nil
		}
	}
	return fmt.Errorf("membership: unknown event type %q", b)
}

// Event is one change in membership. Member is the member after the change.
type Event struct {
	Type   EventType
	Member Member
	At     time.Time
}
