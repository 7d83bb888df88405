package agents

import (
	"fmt"
	"time"
)

// Code is an OCF return code.
type Code int

// The OCF return codes (OCF resource agent API 1.1, section "Exit codes").
const (
	OK               Code = 0 // OCF_SUCCESS: running / action succeeded
	ErrGeneric       Code = 1 // OCF_ERR_GENERIC
	ErrArgs          Code = 2 // OCF_ERR_ARGS: bad parameters (this host)
	ErrUnimplemented Code = 3 // OCF_ERR_UNIMPLEMENTED
	ErrPerm          Code = 4 // OCF_ERR_PERM
	ErrNotInstalled  Code = 5 // OCF_ERR_INSTALLED
	ErrNotConfigured Code = 6 // OCF_ERR_CONFIGURED: bad configuration (every host)
	NotRunning       Code = 7 // OCF_NOT_RUNNING
	RunningPromoted  Code = 8 // OCF_RUNNING_PROMOTED (was RUNNING_MASTER)
	FailedPromoted   Code = 9 // OCF_FAILED_PROMOTED
	Degraded         Code = 190
	DegradedPromoted Code = 191
	// Unknown is Pacemaker's internal PCMK_OCF_UNKNOWN: no result yet. It
	// goes with StatusPending.
	Unknown Code = 193
)

var codeNames = map[Code]string{
	OK:               "ok",
	ErrGeneric:       "error",
	ErrArgs:          "invalid parameter",
	ErrUnimplemented: "unimplemented feature",
	ErrPerm:          "insufficient privileges",
	ErrNotInstalled:  "not installed",
	ErrNotConfigured: "not configured",
	NotRunning:       "not running",
	RunningPromoted:  "promoted",
	FailedPromoted:   "promoted (failed)",
	Degraded:         "OCF_DEGRADED",
	DegradedPromoted: "promoted (degraded)",
	Unknown:          "unknown",
}

// String gives Pacemaker's wording (crm_mon shows "not running", "error").
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("unknown OCF code %d", int(c))
}

// Normalize maps an exit status outside the OCF range to ErrGeneric, as
// Pacemaker's services__ocf2ocf does.
func Normalize(exit int) Code {
	switch c := Code(exit); {
	case c == Degraded || c == DegradedPromoted:
		return c
	case exit < 0 || exit > int(FailedPromoted):
		return ErrGeneric
	default:
		return c
	}
}

// Status is how far an operation got, separate from its Code (Pacemaker's
// PCMK_EXEC_*).
type Status int

const (
	// StatusDone: the agent ran to completion; Code is its answer.
	StatusDone Status = iota
	// StatusPending: the resource is changing state (systemd activating);
	// ask again.
	StatusPending
	// StatusTimeout: the operation did not finish in time and what it
	// started was killed.
	StatusTimeout
	// StatusCancelled: the context was cancelled before the operation
	// finished (not a timeout).
	StatusCancelled
	// StatusError: the agent could not be run at all (exec failed, no
	// D-Bus connection, netlink unavailable). Code says how bad.
	StatusError
	// StatusNotInstalled: the agent itself is missing (no such script).
	StatusNotInstalled
)

var statusNames = [...]string{"complete", "pending", "timed out", "cancelled", "error", "not installed"}

// String gives Pacemaker's wording for op-status.
func (s Status) String() string {
	if int(s) >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status %d", int(s))
}

// Result is the outcome of one operation.
type Result struct {
	Code   Code
	Status Status
	// Reason is a one-line explanation: the agent's ocf-exit-reason, or
	// the native agent's message.
	Reason string
	// Output and Stderr are the tails of what the agent printed (scripts);
	// native agents may put a short log of what they did in Output.
	Output string
	Stderr string
	// Duration is how long the operation ran (exec time).
	Duration time.Duration
}

// Succeeded reports whether the operation completed with OK.
func (r Result) Succeeded() bool { return r.Status == StatusDone && r.Code == OK }

// String is a compact line for logs: "not running (complete) in 12ms: why".
func (r Result) String() string {
	s := fmt.Sprintf("%s (%s) in %s", r.Code, r.Status, r.Duration.Round(time.Microsecond))
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

// Done returns a completed Result with the given code and reason.
func Done(code Code, format string, args ...any) Result {
	r := Result{Code: code, Status: StatusDone}
	if format != "" {
		r.Reason = fmt.Sprintf(format, args...)
	}
	return r
}

// Failed returns a Result for an operation that could not be carried out
// (StatusError) with the given code.
func Failed(code Code, err error) Result {
	r := Result{Code: code, Status: StatusError}
	if err != nil {
		r.Reason = err.Error()
	}
	return r
}

// FromContext turns a finished context into a timeout or cancel Result, or
// reports false when ctx is still live.
func FromContext(ctxErr error, timeout time.Duration, what string) (Result, bool) {
	switch {
	case ctxErr == nil:
		return Result{}, false
	case isDeadline(ctxErr):
		return Result{Code: ErrGeneric, Status: StatusTimeout,
			Reason: fmt.Sprintf("%s did not complete within %s", what, timeout.Round(time.Millisecond))}, true
	default:
		return Result{Code: ErrGeneric, Status: StatusCancelled, Reason: what + " was cancelled"}, true
	}
}
