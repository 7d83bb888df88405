package mon

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"pacer/api"
)

// SnapshotMsg brings a status read after the node reported a change.
type SnapshotMsg struct {
	Status *api.StatusResponse
	At     time.Time
}

// ConnMsg reports the connection: Err nil means the watch stream is up;
// otherwise it is down and the next attempt comes after Retry.
type ConnMsg struct {
	Err   error
	Retry time.Duration
}

type explainMsg struct {
	id, text string
	err      error
}

// ExplainFunc explains one resource in sentences ('pcsctl explain').
type ExplainFunc func(id string) (string, error)

// Model is the 'pcsctl mon' screen. Everything it shows comes from Render
// over the last snapshot; the model adds only what a person does with the
// screen: select, filter, fold sections, read an explanation or the help.
type Model struct {
	snap    Snapshot // Status is nil until the first one arrives
	readAt  time.Time
	conn    string
	target  string
	width   int
	height  int
	opts    Options
	editing bool // typing the filter (opts.Filter)
	sel     string
	top     int
	help    bool
	explain *explainView
	explFn  ExplainFunc
	st      styles
}

type explainView struct {
	id, text string
	top      int
}

// NewModel returns a model that says it waits for target until the first
// snapshot comes in.
func NewModel(target string, explain ExplainFunc, loc *time.Location) Model {
	if loc == nil {
		loc = time.Local
	}
	return Model{target: target, explFn: explain, opts: Options{Loc: loc, HideInactive: true}, width: 80, height: 24, st: newStyles()}
}

// WithView sets what the a and i keys toggle: node attributes shown,
// inactive resources hidden.
func (m Model) WithView(nodeAttrs, hideInactive bool) Model {
	m.opts.NodeAttrs, m.opts.HideInactive = nodeAttrs, hideInactive
	return m
}

// Init starts nothing: snapshots are sent in by the feed.
func (m Model) Init() tea.Cmd { return nil }

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case SnapshotMsg:
		m.snap = Snapshot{Status: msg.Status, Events: Append(m.snap.Events, Diff(m.snap.Status, msg.Status, msg.At)...)}
		m.readAt, m.conn = msg.At, ""
	case ConnMsg:
		m.conn = ""
		if msg.Err != nil {
			m.conn = fmt.Sprintf("connection lost (%v); reconnecting in %s", msg.Err, msg.Retry.Round(time.Millisecond))
		}
	case explainMsg:
		if m.explain != nil && m.explain.id == msg.id {
			m.explain.text = msg.text
			if msg.err != nil {
				m.explain.text = "cannot explain " + msg.id + ": " + msg.err.Error()
			}
		}
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	s := k.String()
	if s == "ctrl+c" {
		return m, tea.Quit
	}
	if m.editing {
		switch s {
		case "enter":
			m.editing = false
		case "esc":
			m.editing, m.opts.Filter = false, ""
		case "backspace":
			if r := []rune(m.opts.Filter); len(r) > 0 {
				m.opts.Filter = string(r[:len(r)-1])
			}
		default:
			if t := k.Key().Text; t != "" {
				m.opts.Filter += t
			}
		}
		m.top = 0
		return m, nil
	}
	if m.explain != nil {
		switch s {
		case "esc", "e", "enter":
			m.explain = nil
		case "q":
			return m, tea.Quit
		case "up", "k":
			m.explain.top = max(0, m.explain.top-1)
		case "down", "j":
			m.explain.top++
		case "pgup":
			m.explain.top = max(0, m.explain.top-m.bodyHeight())
		case "pgdown", "space":
			m.explain.top += m.bodyHeight()
		}
		return m, nil
	}
	if m.help {
		if s == "q" {
			return m, tea.Quit
		}
		m.help = false
		return m, nil
	}
	switch s {
	case "q":
		return m, tea.Quit
	case "?":
		m.help = true
	case "/":
		m.editing = true
	case "esc":
		m.opts.Filter = ""
	case "n":
		m.opts.HideNodes = !m.opts.HideNodes
	case "r":
		m.opts.HideResources = !m.opts.HideResources
	case "f":
		m.opts.HideFencing = !m.opts.HideFencing
	case "a":
		m.opts.NodeAttrs = !m.opts.NodeAttrs
	case "i":
		m.opts.HideInactive = !m.opts.HideInactive
	case "up", "k":
		m.move(-1)
	case "down", "j":
		m.move(1)
	case "pgup":
		m.top = max(0, m.top-m.bodyHeight())
	case "pgdown", "space":
		m.top += m.bodyHeight()
	case "home", "g":
		m.top = 0
	case "e":
		if m.sel != "" && m.explFn != nil {
			id, fn := m.sel, m.explFn
			m.explain = &explainView{id: id, text: "explaining " + id + "..."}
			return m, func() tea.Msg {
				text, err := fn(id)
				return explainMsg{id: id, text: text, err: err}
			}
		}
	}
	return m, nil
}

// move selects the next or previous resource line and scrolls to it.
func (m *Model) move(dir int) {
	lines := m.lines()
	cur := -1
	for i, l := range lines {
		if l.Resource != "" && l.Resource == m.sel {
			cur = i
			break
		}
	}
	i := cur
	for {
		i += dir
		if cur == -1 && dir < 0 {
			i = len(lines) - 1
			cur = len(lines)
		}
		if i < 0 || i >= len(lines) {
			return
		}
		if lines[i].Resource != "" && lines[i].Resource != m.sel {
			m.sel = lines[i].Resource
			h := m.bodyHeight()
			if i < m.top {
				m.top = i
			} else if i >= m.top+h {
				m.top = i - h + 1
			}
			return
		}
	}
}

func (m Model) bodyHeight() int { return max(1, m.height-2) }

func (m Model) lines() []Line {
	if m.snap.Status == nil {
		return []Line{{Text: "waiting for the first status from " + m.target + "...", Kind: Dim}}
	}
	o := m.opts
	o.Width = m.width
	return Render(m.snap, o)
}

// View draws a title bar, the body window and a bottom bar.
func (m Model) View() tea.View {
	w, h := m.width, m.bodyHeight()
	var body []string
	switch {
	case m.help:
		body = m.helpLines()
	case m.explain != nil:
		all := strings.Split(strings.TrimRight(m.explain.text, "\n"), "\n")
		top := min(m.explain.top, max(0, len(all)-1))
		for _, l := range all[top:] {
			body = append(body, fit(l, w))
		}
	default:
		lines := m.lines()
		if m.conn != "" {
			lines = append([]Line{{Text: "!! " + m.conn + "; below: the status of " + m.readAt.In(m.opts.Loc).Format("15:04:05"), Kind: Banner}}, lines...)
		}
		top := min(m.top, max(0, len(lines)-h))
		for _, l := range lines[top:] {
			text := fit(strings.ReplaceAll(l.Text, "\t", " "), w)
			if l.Resource != "" && l.Resource == m.sel && l.Kind != Banner {
				text = "> " + strings.TrimPrefix(strings.TrimPrefix(text, "  "), "> ")
				body = append(body, m.st.sel.Render(fit(text, w)))
				continue
			}
			body = append(body, m.st.kind[l.Kind].Render(text))
		}
	}
	if len(body) > h {
		body = body[:h]
	}
	for len(body) < h {
		body = append(body, "")
	}
	var b strings.Builder
	b.WriteString(m.st.bar.Render(fit(m.title(), w)))
	b.WriteByte('\n')
	b.WriteString(strings.Join(body, "\n"))
	b.WriteByte('\n')
	b.WriteString(m.st.bar.Render(fit(m.footer(), w)))
	v := tea.NewView(b.String())
	v.AltScreen = true
	v.WindowTitle = "pcsctl mon"
	return v
}

func (m Model) title() string {
	t := "pcsctl mon"
	if m.snap.Status != nil {
		t += " - cluster " + m.snap.Status.ClusterName + " - via " + m.snap.Status.Node + " - " + m.readAt.In(m.opts.Loc).Format("15:04:05")
	}
	if m.conn != "" {
		t += " - DISCONNECTED from " + m.target
	}
	return t
}

func (m Model) footer() string {
	switch {
	case m.editing:
		return "filter: " + m.opts.Filter + "_   (enter keeps, esc clears)"
	case m.explain != nil:
		return "explain " + m.explain.id + "   up/down scroll  esc back  q quit"
	case m.help:
		return "any key returns   q quit"
	}
	f := "? help  q quit  / filter  n r f sections  up/down select  e explain"
	if m.opts.Filter != "" {
		f = "filter " + fmt.Sprintf("%q", m.opts.Filter) + " (esc clears)  " + f
	}
	return f
}

func (m Model) helpLines() []string {
	on := func(b bool) string {
		if b {
			return "shown"
		}
		return "hidden"
	}
	return []string{
		"Keys",
		"  ?          this help",
		"  q, ctrl+c  quit",
		"  /          filter nodes, resources, actions and events (enter keeps, esc clears)",
		"  n          node list: " + on(!m.opts.HideNodes),
		"  r          resources: " + on(!m.opts.HideResources),
		"  f          failed actions and fence history: " + on(!m.opts.HideFencing),
		"  a          node attributes: " + on(m.opts.NodeAttrs),
		"  i          inactive resources: " + on(!m.opts.HideInactive),
		"  up/down    select a resource (k/j too)",
		"  e          explain the selected resource (pcsctl explain)",
		"  pgup/pgdn  scroll",
		"",
		"The screen changes when the cluster does: pacerd streams every change.",
		"Lines starting with !! say the cluster runs unsafe or cannot act.",
	}
}

// fit cuts a line to the screen width.
func fit(s string, w int) string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

type styles struct {
	kind map[Kind]lipgloss.Style
	sel  lipgloss.Style
	bar  lipgloss.Style
}

func newStyles() styles {
	s := lipgloss.NewStyle()
	return styles{
		kind: map[Kind]lipgloss.Style{
			Plain:   s,
			Heading: s.Bold(true),
			Good:    s.Foreground(lipgloss.Color("2")),
			Warn:    s.Foreground(lipgloss.Color("3")),
			Bad:     s.Foreground(lipgloss.Color("1")).Bold(true),
			Banner:  s.Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")).Bold(true),
			Dim:     s.Faint(true),
		},
		sel: s.Reverse(true),
		bar: s.Reverse(true),
	}
}
