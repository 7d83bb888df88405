package bedstate

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Dir is a directory of state files, one ID.json per bed. The beds keep
// it on the host's /run, so it goes away on reboot together with
// everything it describes.
type Dir string

// Path is the state file of bed id.
func (d Dir) Path(id string) string { return filepath.Join(string(d), id+".json") }

// Save writes v as the state file of bed id, through a temporary file and
// a rename, so that a reader never sees half of it.
func (d Dir) Save(id string, v any) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := d.Path(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.Path(id))
}

// Load reads the state file of bed id into v.
func (d Dir) Load(id string, v any) error {
	b, err := os.ReadFile(d.Path(id))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("state file %s: %w", d.Path(id), err)
	}
	return nil
}

// List returns the ids of every recorded bed.
func (d Dir) List() []string {
	ents, _ := os.ReadDir(string(d))
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// Lock takes an exclusive lock on DIR/.lock and returns its release.
func (d Dir) Lock() (func(), error) {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(string(d), ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// Teardown runs remove for bed id under the lock, and then removes the
// state file when remove succeeded; a failed teardown keeps the record so
// that the next sweep tries again. Two processes may sweep the same dead
// bed at once: they take turns, and the second finds no state file and
// does nothing.
func (d Dir) Teardown(id string, remove func() error) error {
	unlock, err := d.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(d.Path(id)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := remove(); err != nil {
		return err
	}
	if err := os.Remove(d.Path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Load reads the state file of bed id as a T.
func Load[T any](d Dir, id string) (*T, error) {
	var v T
	if err := d.Load(id, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// NewID is a bed id unique on this host: t<PID>-<random>.
func NewID() string {
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("t%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
}

// Bed is a recorded bed as its package loads it.
type Bed interface {
	OwnerAlive() bool
	Teardown() error
}

// Sweep tears down every recorded bed whose owner is gone: the leftovers
// of a test binary that was killed, or of a bed command that crashed.
// Beds whose owner runs are left alone.
func (d Dir) Sweep(load func(id string) (Bed, error)) []error {
	var errs []error
	for _, id := range d.List() {
		b, err := load(id)
		if err != nil {
			// A half-written file of a dead run; nothing to go by.
			if info, e := os.Stat(d.Path(id)); e == nil && time.Since(info.ModTime()) > time.Minute {
				_ = os.Remove(d.Path(id))
			}
			continue
		}
		if b.OwnerAlive() {
			continue
		}
		if err := b.Teardown(); err != nil {
			errs = append(errs, fmt.Errorf("bed %s: %w", id, err))
		}
	}
	return errs
}
