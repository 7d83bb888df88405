package store

import (
	"testing"
	"time"
)

func TestTimingDefaults(t *testing.T) {
	got := Timing{ElectionTimeout: time.Second}.withDefaults()
	want := Timing{HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: time.Second,
		LeaderLeaseTimeout: 300 * time.Millisecond, CommitTimeout: 250 * time.Millisecond}
	if got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
	if d := DefaultTiming(); d.HeartbeatTimeout != time.Second || d.LeaderLeaseTimeout != 500*time.Millisecond {
		t.Fatalf("DefaultTiming %+v does not match raft.DefaultConfig", d)
	}
}
