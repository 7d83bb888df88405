package scheduler

import "errors"

// Errors Schedule returns. Everything Pacemaker would merely warn about
// (an unknown resource in a constraint, a bad score) becomes a warning in
// the Transition instead: one typo must not stop a cluster from
// recovering. Only a CIB the scheduler cannot even read is an error.
var (
	// ErrNoCIB means Input.CIB was nil.
	ErrNoCIB = errors.New("scheduler: no CIB given")
	// ErrInvalidCIB wraps structural problems: duplicate resource ids,
	// empty resource entries, unnamed nodes.
	ErrInvalidCIB = errors.New("scheduler: invalid CIB")
	// ErrUnknownResource is returned by Explain for an id that is not a
	// primitive of the transition.
	ErrUnknownResource = errors.New("scheduler: unknown resource")
)
