package alerts

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"pacer/crm/cib"
)

// recorder writes an agent that stores its CRM_alert_* environment (and
// the option "extra") in DIR/<sequence>, one file per call.
func recorder(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "record.sh")
	script := "#!/bin/sh\nenv | grep -E '^(CRM_alert_|CRM_notify_kind|extra=)' | sort > \"" + dir + "/call.$CRM_alert_node_sequence\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// calls reads every recorded call, ordered by sequence number.
func calls(t *testing.T, dir string) []map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "call.*"))
	sort.Strings(files)
	var out []map[string]string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newRunner(clock time.Time) (*Runner, *logBuf, *[]Result) {
	lb := &logBuf{}
	var mu sync.Mutex
	results := &[]Result{}
	r := New(Config{
		Version: "9.9.9",
		Clock:   func() time.Time { return clock },
		Logger:  slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Finished: func(res Result) {
			mu.Lock()
			*results = append(*results, res)
			mu.Unlock()
		},
	})
	return r, lb, results
}

var at = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

func TestResourceAlertEnvironment(t *testing.T) {
	dir, path := recorder(t)
	r, _, results := newRunner(at)
	list := []cib.Alert{{
		ID: "notify", Path: path, Options: map[string]string{"extra": "x1"},
		Recipients: []cib.AlertRecipient{{ID: "r1", Value: "ops@example.com"}},
	}}
	r.Send(list, Event{Kind: cib.AlertKindResource, Node: "node2", Resource: "web", Task: "start", IntervalMS: 0, TargetRC: 0, Status: 0, RC: 0, ExecTimeMS: 42, Desc: "ok"})
	r.Wait()
	got := calls(t, dir)
	if len(got) != 1 {
		t.Fatalf("%d calls, want 1", len(got))
	}
	want := map[string]string{
		"CRM_alert_kind": "resource", "CRM_notify_kind": "resource", "CRM_alert_version": "9.9.9",
		"CRM_alert_recipient": "ops@example.com", "CRM_alert_node_sequence": "1",
		"CRM_alert_timestamp": "05:06:07.123456", "CRM_alert_timestamp_epoch": "1772600767", "CRM_alert_timestamp_usec": "123456",
		"CRM_alert_node": "node2", "CRM_alert_rsc": "web", "CRM_alert_task": "start", "CRM_alert_interval": "0",
		"CRM_alert_target_rc": "0", "CRM_alert_status": "0", "CRM_alert_rc": "0", "CRM_alert_exec_time": "42",
		"CRM_alert_desc": "ok", "extra": "x1",
	}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("%s=%q, want %q", k, got[0][k], v)
		}
	}
	if _, ok := got[0]["CRM_alert_nodeid"]; ok {
		t.Errorf("a resource alert has no CRM_alert_nodeid: %v", got[0])
	}
	if len(*results) != 1 || (*results)[0].Err != nil || (*results)[0].ExitCode != 0 {
		t.Errorf("results %+v", *results)
	}
}

// Each recipient gets its own call, its meta overriding the alert's; a
// disabled recipient and alerts that did not select the kind get none.
func TestRecipientsAndSelection(t *testing.T) {
	dir, path := recorder(t)
	r, _, _ := newRunner(at)
	list := []cib.Alert{
		{
			ID: "a", Path: path, Meta: map[string]string{"timestamp-format": "%Y-%m-%d %H:%M:%S.%3N"},
			Recipients: []cib.AlertRecipient{
				{ID: "a-r1", Value: "one"},
				{ID: "a-r2", Value: "two", Meta: map[string]string{"timestamp-format": "%s"}, Options: map[string]string{"extra": "r2"}},
				{ID: "a-r3", Value: "off", Meta: map[string]string{"enabled": "false"}},
			},
		},
		{ID: "attrs-only", Path: path, Select: &cib.AlertSelect{Attributes: true}},
		{ID: "disabled", Path: path, Meta: map[string]string{"enabled": "false"}},
	}
	r.Send(list, Event{Kind: cib.AlertKindNode, Node: "node3", NodeID: "3", Desc: "lost"})
	r.Wait()
	got := calls(t, dir)
	if len(got) != 2 {
		t.Fatalf("%d calls, want 2: %v", len(got), got)
	}
	byRcp := map[string]map[string]string{}
	for _, c := range got {
		byRcp[c["CRM_alert_recipient"]] = c
		if c["CRM_alert_kind"] != "node" || c["CRM_alert_node"] != "node3" || c["CRM_alert_nodeid"] != "3" || c["CRM_alert_desc"] != "lost" {
			t.Errorf("node alert %v", c)
		}
		if _, ok := c["CRM_alert_rsc"]; ok {
			t.Errorf("a node alert has no CRM_alert_rsc: %v", c)
		}
	}
	if ts := byRcp["one"]["CRM_alert_timestamp"]; ts != "2026-03-04 05:06:07.123" {
		t.Errorf("recipient one timestamp %q", ts)
	}
	if ts := byRcp["two"]["CRM_alert_timestamp"]; ts != "1772600767" || byRcp["two"]["extra"] != "r2" {
		t.Errorf("recipient two: %v", byRcp["two"])
	}
	// The attribute-only alert takes attribute events, with the name filter.
	r.Send(list[1:2], Event{Kind: cib.AlertKindAttribute, Node: "node1", NodeID: "1", AttrName: "standby", AttrValue: "on"})
	r.Wait()
	got = calls(t, dir)
	if len(got) != 3 || got[2]["CRM_alert_attribute_name"] != "standby" || got[2]["CRM_alert_attribute_value"] != "on" || got[2]["CRM_alert_recipient"] != "" {
		t.Errorf("attribute alert: %v", got)
	}
}

func TestFailureIsLoggedWithExitCodeAndStderr(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fail.sh")
	os.WriteFile(path, []byte("#!/bin/sh\necho 'first line' >&2\necho 'smtp: connection refused' >&2\nexit 3\n"), 0o755)
	r, lb, results := newRunner(at)
	r.Send([]cib.Alert{{ID: "mail", Path: path}}, Event{Kind: cib.AlertKindFencing, Node: "node2", Task: "st_notify_fence", RC: 0, Desc: "x"})
	r.Wait()
	log := lb.String()
	if !strings.Contains(log, "alert agent failed") || !strings.Contains(log, "exit=3") || !strings.Contains(log, "smtp: connection refused") {
		t.Errorf("log:\n%s", log)
	}
	if len(*results) != 1 || (*results)[0].ExitCode != 3 || (*results)[0].Err == nil || (*results)[0].TimedOut {
		t.Errorf("results %+v", *results)
	}
	// A missing agent is a failure too, said as such.
	r.Send([]cib.Alert{{ID: "gone", Path: filepath.Join(dir, "missing.sh")}}, Event{Kind: cib.AlertKindNode, Node: "n"})
	r.Wait()
	if !strings.Contains(lb.String(), "missing.sh") || !strings.Contains(lb.String(), "no such file") {
		t.Errorf("log:\n%s", lb.String())
	}
}

// A hung agent is killed at its timeout together with what it started.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hang.sh")
	marker := filepath.Join(dir, "survived")
	os.WriteFile(path, []byte("#!/bin/sh\n(sleep 1; touch "+marker+") &\nsleep 30\n"), 0o755)
	r, lb, results := newRunner(at)
	start := time.Now()
	r.Send([]cib.Alert{{ID: "slow", Path: path, Meta: map[string]string{"timeout": "200ms"}}}, Event{Kind: cib.AlertKindNode, Node: "n"})
	r.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the runner waited %v for a 200ms timeout", d)
	}
	if len(*results) != 1 || !(*results)[0].TimedOut {
		t.Fatalf("results %+v", *results)
	}
	if !strings.Contains(lb.String(), "timed out after 200ms") {
		t.Errorf("log:\n%s", lb.String())
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the agent's background child outlived the timeout")
	}
}

func TestFormatTimestamp(t *testing.T) {
	for _, c := range []struct{ format, want string }{
		{"%H:%M:%S.%06N", "05:06:07.123456"},
		{"%Y-%m-%d,%H:%M:%S.%01N", "2026-03-04,05:06:07.1"},
		{"%D %H:%M", "03/04/26 05:06"},
		{"%c", "Wed Mar  4 05:06:07 2026"},
		{"%N|%3N|%9N", "123456|123|123456"},
		{"100%% at %s", "100% at 1772600767"},
		{"%Q stays", "%Q stays"},
		{"ends with %", "ends with %"},
		{"%F %T %z", "2026-03-04 05:06:07 +0000"},
	} {
		if got := FormatTimestamp(c.format, at); got != c.want {
			t.Errorf("FormatTimestamp(%q) = %q, want %q", c.format, got, c.want)
		}
	}
}
