package membership

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// Meta is what every node gossips about itself. It travels as compact JSON
// inside memberlist's node meta, which is limited to MetaMaxSize bytes.
type Meta struct {
	Name     string `json:"name"`
	RaftAddr string `json:"raft"`           // host:port of the Raft transport
	APIAddr  string `json:"api"`            // host:port of the TLS API
	Version  string `json:"version"`        // pacer version of the node
	Role     string `json:"role,omitempty"` // "" for a normal node, RoleWitness for a vote-only node
	// Boot names this run of the node's daemon (random at each start):
	// a peer seen with a new Boot has restarted and lost what its
	// executor knew, even if gossip never saw it leave.
	Boot string `json:"boot,omitempty"`
}

// RoleWitness marks a node that votes in Raft but never runs resources.
const RoleWitness = "witness"

// MetaMaxSize is the largest encoded Meta memberlist accepts; memberlist
// panics on anything longer, so encodeMeta refuses it first.
const MetaMaxSize = memberlist.MetaMaxSize

// wireMeta is the encoded form: Meta plus flags that are about the
// membership protocol rather than the node, so they are not part of Meta.
type wireMeta struct {
	Meta
	// Leaving is set by Leave just before memberlist's leave: peers use it
	// to report StateLeft instead of StateDead (memberlist does not tell
	// its EventDelegate which one it was).
	Leaving bool `json:"leaving,omitempty"`
}

// encodeMeta checks and encodes our own meta.
func encodeMeta(m Meta, leaving bool) ([]byte, error) {
	if m.Name == "" {
		return nil, errors.New("membership: Meta.Name is required")
	}
	if m.Role != "" && m.Role != RoleWitness {
		return nil, fmt.Errorf("membership: Meta.Role %q is unknown (want \"\" or %q)", m.Role, RoleWitness)
	}
	b, err := json.Marshal(wireMeta{Meta: m, Leaving: leaving})
	if err != nil {
		return nil, fmt.Errorf("membership: encoding meta: %w", err)
	}
	// Room for the leave flag is kept even when it is off, so that Leave
	// can never be refused for size.
	if limit := MetaMaxSize - leaveFlagSize; len(b) > limit && !leaving {
		return nil, fmt.Errorf("membership: encoded meta is %d bytes; it must fit in %d (memberlist's limit of %d less room for the leave flag)",
			len(b), limit, MetaMaxSize)
	}
	if len(b) > MetaMaxSize {
		return nil, fmt.Errorf("membership: encoded meta is %d bytes, more than memberlist's limit of %d", len(b), MetaMaxSize)
	}
	return b, nil
}

// leaveFlagSize is what the leave flag adds to an encoded meta.
const leaveFlagSize = len(`,"leaving":true`)

// decodeMeta decodes a peer's meta. It never panics: whatever a peer sends
// (an older or newer pacer, another memberlist program with our key, a bug)
// gives either a Meta or an error. Unknown fields are ignored so that newer
// versions can add some.
func decodeMeta(b []byte) (Meta, bool, error) {
	if len(b) == 0 {
		return Meta{}, false, errors.New("membership: peer sent no meta")
	}
	if len(b) > MetaMaxSize {
		return Meta{}, false, fmt.Errorf("membership: peer meta is %d bytes, more than the limit of %d", len(b), MetaMaxSize)
	}
	// json.Unmarshal accepts "null" into a struct as a no-op; a meta must be
	// an object.
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return Meta{}, false, errors.New("membership: peer meta is not a JSON object")
	}
	var w wireMeta
	if err := json.Unmarshal(b, &w); err != nil {
		return Meta{}, false, fmt.Errorf("membership: decoding peer meta: %w", err)
	}
	return w.Meta, w.Leaving, nil
}
