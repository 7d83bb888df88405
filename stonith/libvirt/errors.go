package libvirt

import (
	"errors"
	"fmt"
)

// Error is a libvirtd error reply (remote_error), with the daemon's own
// message.
type Error struct {
	Code    int32 // virErrorNumber
	Domain  int32 // virErrorDomain (the subsystem, not a VM)
	Message string
	Level   int32
	Proc    string // the procedure that failed
}

func (e *Error) Error() string {
	return fmt.Sprintf("libvirtd: %s (%s, code %d)", e.Message, e.Proc, e.Code)
}

// Error codes worth telling apart (virErrorNumber).
const (
	ErrCodeNoSupport        = 3
	ErrCodeNoDomain         = 42
	ErrCodeOperationInvalid = 55
)

// IsCode reports whether err is (or wraps) a libvirtd Error with code.
func IsCode(err error, code int32) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrClosed is returned for calls on a connection that failed or was
// closed.
var ErrClosed = errors.New("libvirt: connection closed")

func decodeError(payload []byte, proc int32) error {
	d := decoder{b: payload}
	e := &Error{Proc: procName(proc)}
	e.Code = d.i32()
	e.Domain = d.i32()
	if m := d.optStr(maxNameLen); m != nil {
		e.Message = *m
	}
	e.Level = d.i32()
	// The rest (dom, str1-3, int1-2, net) is not needed.
	if err := d.done(); err != nil {
		return fmt.Errorf("libvirt: %s failed with an undecodable error reply: %w", e.Proc, err)
	}
	if e.Message == "" {
		e.Message = "unknown error"
	}
	return e
}
