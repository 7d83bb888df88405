package ocf

import (
	"bytes"
	"strings"
	"sync"
)

// ExitReasonPrefix marks the line of stderr that carries the one-line exit
// reason (ocf_exit_reason in ocf-shellfuncs); Pacemaker's
// PCMK_OCF_REASON_PREFIX, passed as OCF_EXIT_REASON_PREFIX.
const ExitReasonPrefix = "ocf-exit-reason:"

// maxReason bounds an exit reason, like Pacemaker's truncation of reasons
// stored in the CIB.
const maxReason = 256

// tailBuffer is an io.Writer that keeps only the last limit bytes written,
// and, when reasons is set, picks ocf-exit-reason lines out of the stream
// as they pass (so a reason is found even when it scrolled out of the
// tail). It is safe for the concurrent writes exec.Cmd may do.
type tailBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	dropped int64
	reasons bool
	partial []byte // incomplete last line, for reason scanning
	reason  string
}

func newTail(limit int, reasons bool) *tailBuffer {
	return &tailBuffer{limit: limit, reasons: reasons}
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reasons {
		t.scan(p)
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.dropped += int64(over)
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(t.partial) < 4*maxReason { // a reason line longer than this is cut anyway
				t.partial = append(t.partial, p...)
			}
			return
		}
		line := append(t.partial, p[:i]...)
		t.partial = t.partial[:0]
		t.line(line)
		p = p[i+1:]
	}
}

func (t *tailBuffer) line(l []byte) {
	s := strings.TrimRight(string(l), "\r")
	if !strings.HasPrefix(s, ExitReasonPrefix) {
		return
	}
	r := strings.TrimSpace(strings.TrimPrefix(s, ExitReasonPrefix))
	if len(r) > maxReason {
		r = r[:maxReason]
	}
	if r != "" {
		t.reason = r // the last reason wins
	}
}

// String returns the kept tail, marked when output was dropped.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped > 0 {
		return "[...]" + string(t.buf)
	}
	return string(t.buf)
}

// Reason returns the last exit reason seen, including one on an
// unterminated last line.
func (t *tailBuffer) Reason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.line(t.partial)
		t.partial = t.partial[:0]
	}
	return t.reason
}
