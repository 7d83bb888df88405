package store

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"pacer/crm/cib"
)

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

func persist(t *testing.T, f *FSM) *memSink {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed %v cancelled %v", sink.closed, sink.cancelled)
	}
	return sink
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	f := NewFSM(nil)
	applyAll(t, f, fsmFixture())
	sink := persist(t, f)

	g := NewFSM(nil)
	signal, cancel := g.Subscribe()
	defer cancel()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	want, wantIndex := f.Read()
	got, gotIndex := g.Read()
	if gotIndex != wantIndex || got.Version != want.Version {
		t.Fatalf("restored index %d version %s, want %d %s", gotIndex, got.Version, wantIndex, want.Version)
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		t.Fatalf("restored CIB differs:\nwant %s\n got %s", a, b)
	}
	select {
	case <-signal:
	default:
		t.Fatal("no change signal after a restore")
	}
	// The restored FSM goes on from there like the original.
	next := &AddNode{Name: "node3"}
	rf, rg := f.Apply(entry(t, wantIndex+1, next)), g.Apply(entry(t, wantIndex+1, next))
	if rf != rg {
		t.Fatalf("after restore: %v != %v", rg, rf)
	}
}

// A snapshot is the CIB at the moment it was taken, however long Persist
// takes to run: later commands build new CIBs and leave it alone.
func TestSnapshotIsPointInTime(t *testing.T) {
	f := NewFSM(nil)
	applyAll(t, f, fsmFixture()[:2])
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, f, fsmFixture()[2:])
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	var file snapshotFile
	if err := json.Unmarshal(sink.Bytes(), &file); err != nil {
		t.Fatal(err)
	}
	if file.Index != 2 || file.CIB.Version.Epoch != 2 || len(file.CIB.Config.Resources) != 0 {
		t.Fatalf("snapshot has index %d, version %s, %d resources; want 2, 0.2.0, 0",
			file.Index, file.CIB.Version, len(file.CIB.Config.Resources))
	}
}

func TestRestoreRefusesBadSnapshots(t *testing.T) {
	for name, data := range map[string]string{
		"newer format": `{"format":2,"index":1,"cib":{}}`,
		"not json":     `{"format":`,
	} {
		t.Run(name, func(t *testing.T) {
			f := NewFSM(nil)
			applyAll(t, f, fsmFixture()[:1])
			before, index := f.Read()
			if err := f.Restore(io.NopCloser(strings.NewReader(data))); err == nil {
				t.Fatal("restore accepted it")
			}
			if after, got := f.Read(); after != before || got != index {
				t.Fatal("a refused restore changed the state")
			}
		})
	}
	// An empty snapshot (taken before any command) restores an empty CIB.
	f := NewFSM(nil)
	if err := f.Restore(io.NopCloser(strings.NewReader(`{"format":1,"index":0,"cib":null}`))); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.Read(); c == nil || c.Status.Nodes == nil || c.Version != (cib.Version{}) {
		t.Fatalf("restored %#v", c)
	}
}
