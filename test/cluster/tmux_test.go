package cluster_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tmuxScreen is a detached tmux session on a private server socket in
// the test's temporary directory, so a test only ever touches its own
// sessions and leaves no socket behind.
type tmuxScreen struct {
	tb     testing.TB
	socket string
}

var tmuxSeq atomic.Int64

// startTmux runs argv in an 80x24 tmux session; it is killed (with its
// private server) when the test ends. Tests skip when tmux is missing.
func startTmux(tb testing.TB, argv ...string) *tmuxScreen {
	tb.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		tb.Skip("tmux not installed (Debian package tmux): the screen tests drive pcsctl mon through it")
	}
	s := &tmuxScreen{tb: tb, socket: filepath.Join(tb.TempDir(), fmt.Sprintf("tmux-%d.sock", tmuxSeq.Add(1)))}
	// remain-on-exit keeps the pane after the program ends, so a test
	// can tell "quit" from "crashed" and read what it printed.
	args := append([]string{"new-session", "-d", "-x", "80", "-y", "24", "-s", "mon", "-e", "TERM=xterm-256color"}, argv...)
	if out, err := s.tmux(args...); err != nil {
		tb.Fatalf("tmux new-session: %v: %s", err, out)
	}
	s.tmux("set-option", "-t", "mon", "remain-on-exit", "on")
	tb.Cleanup(func() { s.tmux("kill-server") })
	return s
}

func (s *tmuxScreen) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// Capture returns what the screen shows now.
func (s *tmuxScreen) Capture() string {
	out, _ := s.tmux("capture-pane", "-p", "-t", "mon")
	return out
}

// CaptureJoined is the screen with lines the terminal wrapped joined
// again (tmux's -J), so an over-wide line shows as one.
func (s *tmuxScreen) CaptureJoined() string {
	out, _ := s.tmux("capture-pane", "-p", "-J", "-t", "mon")
	return out
}

// Keys types keys as a person would (tmux key names: Enter, Escape, Up).
func (s *tmuxScreen) Keys(keys ...string) {
	s.tb.Helper()
	if out, err := s.tmux(append([]string{"send-keys", "-t", "mon"}, keys...)...); err != nil {
		s.tb.Fatalf("send-keys %v: %v: %s", keys, err, out)
	}
}

// Dead reports whether the program in the pane has exited.
func (s *tmuxScreen) Dead() bool {
	out, _ := s.tmux("display-message", "-p", "-t", "mon", "#{pane_dead}")
	return strings.TrimSpace(out) == "1"
}

// WaitFor waits until the screen satisfies ok, and fails the test with
// the screen when it does not within d.
func (s *tmuxScreen) WaitFor(d time.Duration, what string, ok func(screen string) bool) string {
	s.tb.Helper()
	deadline := time.Now().Add(d)
	for {
		scr := s.Capture()
		if ok(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("the screen does not show %s after %v:\n%s", what, d, scr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitText waits until every text is on the screen.
func (s *tmuxScreen) WaitText(d time.Duration, texts ...string) string {
	s.tb.Helper()
	return s.WaitFor(d, fmt.Sprintf("%q", texts), func(scr string) bool {
		for _, t := range texts {
			if !strings.Contains(scr, t) {
				return false
			}
		}
		return true
	})
}
