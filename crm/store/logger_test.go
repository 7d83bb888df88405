package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHCLog(l, "raft")
	h.Trace("hidden at debug")
	h.Debug("dbg", "k", 1)
	h.Info("fmt", "servers", hclog.Fmt("%d+%d", 1, 2))
	h.Named("net").With("peer", "n2").Warn("slow", "ms", 5)
	h.ResetNamed("snap").Error("bad")
	out := buf.String()
	for _, want := range []string{
		"level=DEBUG msg=dbg component=raft k=1",
		"level=INFO msg=fmt component=raft servers=1+2",
		"level=WARN msg=slow component=raft.net peer=n2 ms=5",
		"level=ERROR msg=bad component=snap",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") || strings.Count(out, "component=") != 4 {
		t.Errorf("unexpected output:\n%s", out)
	}
	if h.IsTrace() || !h.IsDebug() || !h.IsError() {
		t.Error("level checks do not follow the slog handler")
	}
	h.SetLevel(hclog.Error)
	h.Warn("filtered by SetLevel")
	if strings.Contains(buf.String(), "filtered") || h.GetLevel() != hclog.Error {
		t.Error("SetLevel ignored")
	}
	h.StandardLogger(nil).Print("via std")
	if !strings.Contains(buf.String(), "via std") {
		t.Error("StandardLogger output lost")
	}
}
