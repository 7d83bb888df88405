package membership

import (
	"errors"
	"fmt"
	"strings"
)

// ErrKeyMismatch matches (errors.Is) a JoinError whose peers could not be
// reached because their cluster key is not ours.
var ErrKeyMismatch = errors.New("membership: the peers use a different cluster key")

// JoinError is what Join returns when it reached none of the addresses.
type JoinError struct {
	// Addrs are the addresses Join was given.
	Addrs []string
	// Failures are memberlist's reasons, one per address tried.
	Failures []error
	// KeyMismatch is set when a failure is a cluster key mismatch.
	KeyMismatch bool
}

const keyHint = " (a wrong cluster key gives exactly this; check the key file)"

func (e *JoinError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gossip: could not join any of %v", e.Addrs)
	for i, f := range e.Failures {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		// memberlist says "failed to join ADDR: why"; the prefix repeats ours.
		b.WriteString(strings.TrimPrefix(f.Error(), "failed to join "))
	}
	if e.KeyMismatch {
		b.WriteString(keyHint)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrKeyMismatch) work.
func (e *JoinError) Is(target error) bool { return target == ErrKeyMismatch && e.KeyMismatch }

// Unwrap gives the per-address failures to errors.Is/As.
func (e *JoinError) Unwrap() []error { return e.Failures }

// newJoinError splits memberlist's multierror (it has WrappedErrors; we
// avoid importing go-multierror for one method) into per-address failures.
func newJoinError(addrs []string, err error) *JoinError {
	je := &JoinError{Addrs: addrs}
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		je.Failures = multi.WrappedErrors()
	} else if err != nil {
		je.Failures = []error{err}
	}
	for _, f := range je.Failures {
		if keyProblemOf(f.Error()) != keyOK {
			je.KeyMismatch = true
		}
	}
	return je
}

type keyProblem int

const (
	keyOK keyProblem = iota
	// keyDiffers: AES-GCM opened nothing. With memberlist this is a wrong
	// key, or on UDP a sender with no key at all.
	keyDiffers
	// keyPeerHasNone: a stream from a peer that does not encrypt.
	keyPeerHasNone
)

// keyProblemOf classifies memberlist's error text (memberlist v0.7.0
// security.go and net.go readStream; these are plain fmt.Errorf strings, so
// text is all there is to match).
func keyProblemOf(s string) keyProblem {
	switch {
	case strings.Contains(s, "no installed keys could decrypt the message"):
		return keyDiffers
	case strings.Contains(s, "encryption is configured but remote state is not encrypted"):
		return keyPeerHasNone
	}
	return keyOK
}
