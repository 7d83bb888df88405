package alerts

import (
	"strings"
	"testing"
	"time"
)

// FuzzFormatTimestamp: the alert's timestamp-format comes from the CIB,
// that is from any administrator or imported file; formatting never
// panics and never grows without bound.
func FuzzFormatTimestamp(f *testing.F) {
	for _, s := range []string{"%H:%M:%S.%06N", "%Y-%m-%dT%H:%M:%S%z", "%%", "%", "%-", "%0", "%999999N", "%e %I %p %j", "plain"} {
		f.Add(s)
	}
	at := time.Date(2026, 11, 22, 14, 2, 11, 204000000, time.UTC)
	f.Fuzz(func(t *testing.T, format string) {
		out := FormatTimestamp(format, at)
		if len(out) > 64*len(format)+64 {
			t.Fatalf("format %q gave %d bytes", format, len(out))
		}
		if !strings.Contains(format, "%") && out != format {
			t.Fatalf("format %q without conversions changed to %q", format, out)
		}
	})
}
