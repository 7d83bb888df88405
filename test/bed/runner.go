package bed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// runner stands in for a *testing.T outside tests (the bed command, a
// TestMain that shares one bed between tests), so that Up and
// systemdbed.Boot serve both. Fatal and Skip end the goroutine that runs
// the work (runtime.Goexit, as the testing package does); cleanups run in
// reverse order when the runner is closed.
type runner struct {
	testing.TB // only for the unexported method; everything used is below

	dir string
	log io.Writer

	mu       sync.Mutex
	cleanups []func()
	errs     []string
	failed   bool
	skipped  bool
	ntmp     int
}

func newRunner(dir string, log io.Writer) *runner {
	if log == nil {
		log = io.Discard
	}
	return &runner{dir: dir, log: log}
}

// do runs fn on its own goroutine and reports whether it failed or
// skipped (through Fatal, Skip or Error).
func (r *runner) do(fn func()) error {
	done := make(chan bool)
	go func() {
		finished := false
		defer func() { done <- finished }()
		fn()
		finished = true
	}()
	finished := <-done
	r.mu.Lock()
	defer r.mu.Unlock()
	if !finished || r.failed || r.skipped {
		msg := strings.Join(r.errs, "; ")
		if msg == "" {
			msg = "stopped without a message"
		}
		return errors.New(msg)
	}
	return nil
}

// close runs the cleanups, last registered first, and returns the errors
// they reported.
func (r *runner) close() error {
	r.mu.Lock()
	r.errs = nil
	r.mu.Unlock()
	for {
		r.mu.Lock()
		if len(r.cleanups) == 0 {
			r.mu.Unlock()
			break
		}
		f := r.cleanups[len(r.cleanups)-1]
		r.cleanups = r.cleanups[:len(r.cleanups)-1]
		r.mu.Unlock()
		_ = r.do(f)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		return errors.New(strings.Join(r.errs, "; "))
	}
	return nil
}

func (r *runner) record(fail bool, msg string) {
	r.mu.Lock()
	r.errs = append(r.errs, msg)
	r.failed = r.failed || fail
	r.mu.Unlock()
	fmt.Fprintln(r.log, msg)
}

func (r *runner) Helper()                      {}
func (r *runner) Name() string                 { return "bed" }
func (r *runner) Attr(key, value string)       {}
func (r *runner) Context() context.Context     { return context.Background() }
func (r *runner) Output() io.Writer            { return r.log }
func (r *runner) Log(args ...any)              { fmt.Fprintln(r.log, args...) }
func (r *runner) Logf(f string, args ...any)   { fmt.Fprintf(r.log, f+"\n", args...) }
func (r *runner) Error(args ...any)            { r.record(true, fmt.Sprint(args...)) }
func (r *runner) Errorf(f string, args ...any) { r.record(true, fmt.Sprintf(f, args...)) }
func (r *runner) Fail()                        { r.mu.Lock(); r.failed = true; r.mu.Unlock() }
func (r *runner) FailNow()                     { r.Fail(); runtime.Goexit() }
func (r *runner) Fatal(args ...any)            { r.Error(args...); runtime.Goexit() }
func (r *runner) Fatalf(f string, args ...any) { r.Errorf(f, args...); runtime.Goexit() }
func (r *runner) Skip(args ...any)             { r.skip(fmt.Sprint(args...)) }
func (r *runner) Skipf(f string, args ...any)  { r.skip(fmt.Sprintf(f, args...)) }
func (r *runner) SkipNow()                     { r.skip("skipped") }
func (r *runner) Chdir(dir string)             { r.Fatalf("bed: Chdir is not supported outside tests") }
func (r *runner) Setenv(k, v string)           { r.Fatalf("bed: Setenv is not supported outside tests") }
func (r *runner) ArtifactDir() string          { return r.TempDir() }

func (r *runner) skip(msg string) {
	r.mu.Lock()
	r.skipped = true
	r.errs = append(r.errs, msg)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *runner) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *runner) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

func (r *runner) Cleanup(f func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

// TempDir makes a fresh directory below the runner's; it is removed with
// the runner's directory, not by a cleanup.
func (r *runner) TempDir() string {
	r.mu.Lock()
	r.ntmp++
	d := filepath.Join(r.dir, fmt.Sprintf("%03d", r.ntmp))
	r.mu.Unlock()
	if err := os.MkdirAll(d, 0o755); err != nil {
		r.Fatalf("bed: make %s: %v", d, err)
	}
	return d
}
