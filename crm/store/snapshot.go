package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"pacer/crm/cib"
)

// snapshotFormat versions the snapshot file. A node refuses a format it
// does not know rather than restoring part of the state.
const snapshotFormat = 1

// snapshotFile is what a raft snapshot holds: the whole CIB as JSON, and
// the index it reflects so WaitIndex keeps working after a restore (raft
// does not tell FSM.Restore the snapshot's index).
type snapshotFile struct {
	Format int      `json:"format"`
	Index  uint64   `json:"index"`
	CIB    *cib.CIB `json:"cib"`
}

// fsmSnapshot is a point-in-time CIB. Because the FSM never modifies a
// CIB it has published, holding the pointer is the whole snapshot: no
// copy, and Persist may run while Apply goes on.
type fsmSnapshot struct {
	cib   *cib.CIB
	index uint64
}

// Snapshot captures the current CIB pointer; raft calls Persist later.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	c, index := f.Read()
	return &fsmSnapshot{cib: c, index: index}, nil
}

// Persist writes the snapshot as JSON into sink.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	err := json.NewEncoder(w).Encode(snapshotFile{Format: snapshotFormat, Index: s.index, CIB: s.cib})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write CIB snapshot: %w", err)
	}
	return sink.Close()
}

// Release is a no-op: the snapshot holds no resources.
func (s *fsmSnapshot) Release() {}

// Restore replaces the FSM's state with a snapshot: it decodes into a new
// CIB and swaps it in, so readers holding the old one are unaffected.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var snap snapshotFile
	if err := json.NewDecoder(bufio.NewReader(rc)).Decode(&snap); err != nil {
		return fmt.Errorf("read CIB snapshot: %w", err)
	}
	if snap.Format != snapshotFormat {
		return fmt.Errorf("CIB snapshot format %d, this node reads %d: upgrade this node", snap.Format, snapshotFormat)
	}
	c := snap.CIB
	if c == nil {
		c = cib.New()
	}
	if c.Status.Nodes == nil {
		c.Status.Nodes = map[string]*cib.NodeStatus{}
	}
	f.mu.Lock()
	f.cur = c
	f.index = snap.Index
	close(f.moved)
	f.moved = make(chan struct{})
	f.mu.Unlock()
	f.notify()
	f.log.Info("CIB restored from snapshot", "index", snap.Index, "version", c.Version.String())
	return nil
}
