package store

import (
	"encoding/json"
	"fmt"

	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &Batch{} })
}

// Batch applies several commands as one: all of them or none. pcsctl
// sends one when a single command line makes several changes
// ('property set a=1 b=2', 'node standby n1 n2'), so a refusal of the
// second leaves the first unwritten too.
type Batch struct {
	Commands []Envelope `json:"commands"`
}

// NewBatch wraps commands into a Batch.
func NewBatch(cmds ...Command) (*Batch, error) {
	b := &Batch{}
	for _, c := range cmds {
		env, err := Wrap(c)
		if err != nil {
			return nil, err
		}
		b.Commands = append(b.Commands, env)
	}
	return b, nil
}

func (*Batch) Kind() string { return "batch" }

// Section is config when any member changes the configuration, so the
// epoch moves as it would for that change alone.
func (b *Batch) Section() Section {
	for _, env := range b.Commands {
		if c, err := env.Unwrap(); err == nil && c.Section() == SectionConfig {
			return SectionConfig
		}
	}
	return SectionStatus
}

func (b *Batch) Apply(x *cib.CIB) error {
	if len(b.Commands) == 0 {
		return errorf(ErrInvalid, "empty batch")
	}
	for i, env := range b.Commands {
		if env.Kind == b.Kind() {
			return errorf(ErrInvalid, "a batch cannot hold a batch")
		}
		c, err := env.Unwrap()
		if err != nil {
			return err
		}
		if err := c.Apply(x); err != nil {
			if len(b.Commands) == 1 {
				return err
			}
			return fmt.Errorf("change %d of %d (%s): %w; none of the %d changes was written", i+1, len(b.Commands), describe(env), err, len(b.Commands))
		}
	}
	return nil
}

func describe(env Envelope) string {
	var m map[string]any
	if json.Unmarshal(env.Command, &m) == nil {
		for _, k := range []string{"name", "id", "node", "group"} {
			if v, ok := m[k].(string); ok && v != "" {
				return env.Kind + " " + v
			}
		}
	}
	return env.Kind
}
