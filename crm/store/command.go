package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"pacer/crm/cib"
)

// Command is one typed change to the CIB. Apply mutates the CIB it is
// given (a private copy: the FSM swaps it in only when Apply and
// validation both succeed, so a rejected command changes nothing).
//
// Apply must be deterministic: every node applies the same log.
type Command interface {
	// Kind is the stable wire name, e.g. "property.set".
	Kind() string
	// Section says which counter the change bumps.
	Section() Section
	Apply(c *cib.CIB) error
}

// Section is the part of the CIB a command changes.
type Section int

const (
	// SectionConfig changes bump epoch and reset num_updates.
	SectionConfig Section = iota
	// SectionStatus changes bump num_updates.
	SectionStatus
)

// formatVersion is the first byte of every encoded command. A node that
// reads a newer format refuses it instead of guessing.
const formatVersion byte = 1

// commandTypes is the registry of kinds, built by Register calls in this
// package only (no init-time globals elsewhere).
var commandTypes = map[string]func() Command{}

func register(f func() Command) {
	commandTypes[f().Kind()] = f
}

// Envelope is the JSON form used on the API: {"kind": ..., "command": {...}}.
type Envelope struct {
	Kind    string          `json:"kind"`
	Command json.RawMessage `json:"command"`
}

// Wrap puts a command in an envelope.
func Wrap(c Command) (Envelope, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s: %w", c.Kind(), err)
	}
	return Envelope{Kind: c.Kind(), Command: b}, nil
}

// Unwrap decodes an envelope into its typed command. Unknown fields are
// refused so that a typo in a client is an error, not a silent no-op.
func (e Envelope) Unwrap() (Command, error) {
	f, ok := commandTypes[e.Kind]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownCommand, e.Kind)
	}
	c := f()
	if err := strictUnmarshal(e.Command, c); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrInvalid, e.Kind, err)
	}
	return c, nil
}

// Encode is the Raft log form: format byte then the JSON envelope.
func Encode(c Command) ([]byte, error) {
	env, err := Wrap(c)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	return append([]byte{formatVersion}, b...), nil
}

// Decode reverses Encode.
func Decode(b []byte) (Command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrInvalid)
	}
	if b[0] != formatVersion {
		return nil, fmt.Errorf("%w: command format %d, this node reads %d (upgrade this node)", ErrUnknownCommand, b[0], formatVersion)
	}
	var env Envelope
	if err := json.Unmarshal(b[1:], &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return env.Unwrap()
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the command")
	}
	return nil
}
