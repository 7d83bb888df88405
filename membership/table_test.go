package membership

import (
	"log/slog"
	"testing"
	"time"
)

// fakeClock advances one second per reading, so every change has its own
// time.
type fakeClock struct{ now time.Time }

func (c *fakeClock) read() time.Time {
	c.now = c.now.Add(time.Second)
	return c.now
}

func newTestTable(buffer int) (*table, *eventQueue, *logCapture) {
	logs := &logCapture{}
	log := slog.New(logs)
	q := newEventQueue(buffer, log)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return newTable(clock.read, log, q), q, logs
}

func drain(q *eventQueue) []string {
	var out []string
	for {
		select {
		case ev := <-q.ch:
			out = append(out, ev.Type.String()+" "+ev.Member.Name+" "+ev.Member.State.String())
		default:
			return out
		}
	}
}

func metaBytes(t *testing.T, m Meta, leaving bool) []byte {
	t.Helper()
	b, err := encodeMeta(m, leaving)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTableTransitions(t *testing.T) {
	n2 := metaBytes(t, metaFor("n2"), false)
	n2leaving := metaBytes(t, metaFor("n2"), true)
	n2new := metaFor("n2")
	n2new.Version = "2"

	tests := []struct {
		name  string
		steps func(tb *table)
		want  []string
	}{
		{"join", func(tb *table) { tb.joined("n2", "a:1", n2) }, []string{"up n2 alive"}},
		{"crash", func(tb *table) {
			tb.joined("n2", "a:1", n2)
			tb.suspected("n2")
			tb.suspected("n2") // a second failed probe is not a new event
			tb.left("n2")
			tb.suspected("n2") // a probe round that outlived the down
		}, []string{"up n2 alive", "suspect n2 suspect", "down n2 dead"}},
		{"suspect then answered", func(tb *table) {
			tb.joined("n2", "a:1", n2)
			tb.suspected("n2")
			tb.acked("n2")
			tb.acked("n2") // acks of an alive member are not news
		}, []string{"up n2 alive", "suspect n2 suspect", "up n2 alive"}},
		{"leave", func(tb *table) {
			tb.joined("n2", "a:1", n2)
			tb.updated("n2", "a:1", n2leaving) // flag only: no event
			tb.left("n2")
			tb.left("n2")
		}, []string{"up n2 alive", "down n2 left"}},
		{"back after leave", func(tb *table) {
			tb.joined("n2", "a:1", n2)
			tb.updated("n2", "a:1", n2leaving)
			tb.left("n2")
			tb.joined("n2", "a:1", n2)
			tb.left("n2") // the new incarnation did not say it was leaving
		}, []string{"up n2 alive", "down n2 left", "up n2 alive", "down n2 dead"}},
		{"update clears suspicion", func(tb *table) {
			tb.joined("n2", "a:1", n2)
			tb.suspected("n2")
			tb.updated("n2", "a:1", metaBytes(t, n2new, false))
		}, []string{"up n2 alive", "suspect n2 suspect", "up n2 alive", "updated n2 alive"}},
		{"unknown members are ignored", func(tb *table) {
			tb.suspected("nobody")
			tb.acked("nobody")
			tb.left("nobody")
		}, nil},
		{"sweep clears a stale suspicion", func(tb *table) {
			tb.joined("n2", "a:1", n2)
			tb.suspected("n2")
			tb.sweep(2)
			tb.sweep(2)
			tb.suspected("n2") // failed again: the count restarts
			tb.sweep(2)
			tb.sweep(2)
			tb.sweep(2)
		}, []string{"up n2 alive", "suspect n2 suspect", "up n2 alive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, q, _ := newTestTable(64)
			tt.steps(tb)
			got := drain(q)
			if len(got) != len(tt.want) {
				t.Fatalf("events %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("events %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestTableSinceAndOrder(t *testing.T) {
	tb, q, _ := newTestTable(8)
	tb.joined("b", "b:1", metaBytes(t, metaFor("b"), false))
	tb.joined("a", "a:1", metaBytes(t, metaFor("a"), false))
	tb.suspected("b")
	members := tb.list()
	if len(members) != 2 || members[0].Name != "a" || members[1].Name != "b" {
		t.Fatalf("list() = %+v, want a, b", members)
	}
	if !members[1].Since.After(members[0].Since) || members[1].State != StateSuspect {
		t.Errorf("b = %+v: want suspect since after a's join", members[1])
	}
	evs := []Event{<-q.ch, <-q.ch, <-q.ch}
	if evs[2].At != members[1].Since {
		t.Errorf("suspect event at %v, member since %v", evs[2].At, members[1].Since)
	}
}

func TestTableKeepsMemberWithBadMeta(t *testing.T) {
	tb, q, logs := newTestTable(8)
	tb.joined("x", "x:1", []byte("garbage"))
	ev := <-q.ch
	if ev.Type != EventUp || ev.Member.Meta != (Meta{Name: "x"}) {
		t.Errorf("got %+v, want up with empty fields", ev)
	}
	if _, ok := logs.find("ERROR", "could not be decoded", "member=x"); !ok {
		t.Errorf("no error logged:\n%s", logs.dump())
	}
	// The memberlist name wins over a meta that claims another.
	other := metaFor("someone-else")
	tb.updated("x", "x:1", metaBytes(t, other, false))
	if ev := <-q.ch; ev.Member.Name != "x" || ev.Member.APIAddr != other.APIAddr {
		t.Errorf("got %+v", ev.Member)
	}
}

func TestQueueDropsOldestWhenFull(t *testing.T) {
	logs := &logCapture{}
	q := newEventQueue(3, slog.New(logs))
	for i := range 5 {
		q.push(Event{Type: EventUp, Member: Member{Meta: Meta{Name: string(rune('a' + i))}}})
	}
	var got string
	for range 3 {
		got += (<-q.ch).Member.Name
	}
	if got != "cde" {
		t.Errorf("kept %q, want the newest three, cde", got)
	}
	if _, ok := logs.find("WARN", "event buffer full", "member=a"); !ok {
		t.Errorf("no warning for the dropped event:\n%s", logs.dump())
	}
	q.close()
	q.close()
	q.push(Event{}) // after close: ignored, no panic
	if _, ok := <-q.ch; ok {
		t.Error("channel not closed")
	}
}

// A member is up while alive or merely suspected; dead or left, it is not.
func TestMemberUp(t *testing.T) {
	for st, want := range map[State]bool{StateAlive: true, StateSuspect: true, StateDead: false, StateLeft: false, 0: false} {
		if got := (Member{State: st}).Up(); got != want {
			t.Errorf("%v: Up() = %v, want %v", st, got, want)
		}
	}
}
