package daemon

import (
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/crm/store"
)

func TestTwoNodeQueueKeepsNewestFence(t *testing.T) {
	var two twoNode
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	for i := range maxPendingAttempts + 30 {
		two.queue(&store.RecordFenceAttempt{Events: []cib.FenceEvent{{Target: "server4", Result: "error"}}})
		two.queue(&store.RecordFence{Node: "server4", At: t0.Add(time.Duration(i) * time.Second)})
	}
	attempts, fences := 0, 0
	var last *store.RecordFence
	for _, c := range two.pending {
		switch c := c.(type) {
		case *store.RecordFenceAttempt:
			attempts++
		case *store.RecordFence:
			fences++
			last = c
		}
	}
	if attempts != maxPendingAttempts || fences != 1 {
		t.Fatalf("kept %d attempts and %d fence records, want %d and 1", attempts, fences, maxPendingAttempts)
	}
	if want := t0.Add((maxPendingAttempts + 29) * time.Second); !last.At.Equal(want) {
		t.Errorf("kept the fence record of %v, want the newest, %v", last.At, want)
	}
	if _, ok := two.pending[len(two.pending)-1].(*store.RecordFence); !ok {
		t.Error("the fence record must come after the attempts it follows")
	}
}

// A fence record still unwritten when the peer is back must not wipe
// what the peer runs by then.
func TestTwoNodePeerReturnedDropsFenceRecord(t *testing.T) {
	var two twoNode
	two.queue(&store.RecordFenceAttempt{Events: []cib.FenceEvent{{Target: "server4", Result: "ok"}}},
		&store.RecordFence{Node: "server4"})
	two.peerReturned()
	if len(two.pending) != 1 {
		t.Fatalf("pending %d commands, want the attempt only", len(two.pending))
	}
	if _, ok := two.pending[0].(*store.RecordFenceAttempt); !ok {
		t.Errorf("kept %s, want the fence attempt (history)", two.pending[0].Kind())
	}
}
