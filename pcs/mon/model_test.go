package mon

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func press(m tea.Model, keys ...string) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "up":
			msg = tea.KeyPressMsg{Code: tea.KeyUp}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		m, cmd = m.Update(msg)
	}
	return m, cmd
}

func screen(m tea.Model) string { return ansi.Strip(m.(Model).View().Content) }

func started(t *testing.T) tea.Model {
	m := NewModel("/run/pacer/pacerd.sock", func(id string) (string, error) { return "explained " + id, nil }, time.UTC)
	tm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	tm, _ = tm.Update(SnapshotMsg{Status: calm(), At: t0})
	return tm
}

// The 80x24 screen, golden: exactly 24 lines, none wider than 80.
func TestScreenGolden(t *testing.T) {
	m := started(t)
	m, _ = m.Update(SnapshotMsg{Status: trouble(), At: ms(250)})
	s := screen(m)
	lines := strings.Split(s, "\n")
	if len(lines) != 24 {
		t.Errorf("%d lines", len(lines))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d wide: %q", w, l)
		}
	}
	golden(t, "screen-trouble-80x24.golden", s)
}

func TestKeys(t *testing.T) {
	m := started(t)
	if _, cmd := press(m, "q"); cmd == nil || cmd() != tea.Quit() {
		t.Error("q does not quit")
	}
	if s := screen(m); !strings.Contains(s, "Node List:") || !strings.Contains(s, "Full List of Resources:") && !strings.Contains(s, "Active Resources:") {
		t.Fatalf("first screen:\n%s", s)
	}
	m2, _ := press(m, "n")
	if strings.Contains(screen(m2), "Node List:") {
		t.Error("n does not fold the node list")
	}
	m2, _ = press(m2, "n", "r")
	if s := screen(m2); !strings.Contains(s, "Node List:") || strings.Contains(s, "Active Resources:") {
		t.Errorf("n r:\n%s", s)
	}
	m2, _ = press(m, "/", "d", "b", "enter")
	s := screen(m2)
	if !strings.Contains(s, "* db") || strings.Contains(s, "* vip") || !strings.Contains(s, `filter "db"`) {
		t.Errorf("filter db:\n%s", s)
	}
	m2, _ = press(m2, "esc")
	if !strings.Contains(screen(m2), "* vip") {
		t.Error("esc does not clear the filter")
	}
	m2, _ = press(m, "?")
	if !strings.Contains(screen(m2), "explain the selected resource") {
		t.Error("? shows no help")
	}
	m2, _ = press(m, "down", "down")
	if !strings.Contains(screen(m2), ">   * haproxy") {
		t.Errorf("down down should select haproxy:\n%s", screen(m2))
	}
	m2, cmd := press(m2, "e")
	if cmd == nil {
		t.Fatal("e runs nothing")
	}
	m2, _ = m2.Update(cmd())
	if !strings.Contains(screen(m2), "explained haproxy") {
		t.Errorf("explain:\n%s", screen(m2))
	}
}

func TestLostConnectionIsShown(t *testing.T) {
	m := started(t)
	m, _ = m.Update(ConnMsg{Err: errors.New("connection refused"), Retry: 500 * time.Millisecond})
	s := screen(m)
	if !strings.Contains(s, "DISCONNECTED") || !strings.Contains(s, "connection lost (connection refused); reconnecting in 500ms") {
		t.Errorf("lost connection:\n%s", s)
	}
	m, _ = m.Update(ConnMsg{})
	if strings.Contains(screen(m), "DISCONNECTED") {
		t.Error("still says disconnected after reconnecting")
	}
}

// 'pcsctl mon -A --inactive' opens the screen as the a and i keys would
// leave it: the same lines as pressing them.
func TestWithViewIsLikeTheKeys(t *testing.T) {
	m := NewModel("/run/pacer/pacerd.sock", nil, time.UTC).WithView(true, false)
	tm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	tm, _ = tm.Update(SnapshotMsg{Status: calm(), At: t0})
	keyed, _ := press(started(t), "a", "i")
	if got, want := screen(tm), screen(keyed); got != want {
		t.Errorf("WithView(true, false):\n%s\nwant, as after a and i:\n%s", got, want)
	}
	if plain := screen(started(t)); plain == screen(tm) {
		t.Error("WithView(true, false) drew the default screen")
	}
}
