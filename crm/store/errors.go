package store

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is; the API turns each into a code.
var (
	// ErrNotFound: the command names something that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: the command would create something that already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: the command is malformed (validation problems come as *cib.ValidationError).
	ErrInvalid = errors.New("invalid")
	// ErrNotLeader: writes go to the leader; this node is not it.
	ErrNotLeader = errors.New("not the leader")
	// ErrNoLeader: there is no leader (no quorum, or an election is running).
	ErrNoLeader = errors.New("no leader: the cluster has no quorum or is electing one")
	// ErrMaybeApplied: leadership was lost after the change entered the
	// log; it may still commit. Retrying blindly could apply it twice.
	ErrMaybeApplied = errors.New("the change may still be applied")
	// ErrUnknownCommand: a command kind this version does not know.
	ErrUnknownCommand = errors.New("unknown command")
)

// kindError is an error whose message reads naturally for a person while
// errors.Is still matches its sentinel.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }
func (e *kindError) Unwrap() error        { return nil }

// errorf makes an error of the given kind with a plain message.
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
