package membership

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config is what New needs. Only Meta.Name and Key are required.
type Config struct {
	// Meta is gossiped to every peer. Meta.Name is this node's identity in
	// the cluster (memberlist's node name) and must be unique and stable.
	Meta Meta

	// BindAddr is the address gossip listens on (UDP and TCP).
	// Default "0.0.0.0".
	BindAddr string
	// BindPort is the gossip port. Default 0: the kernel picks a free port
	// (see Addr); a real cluster sets a fixed one (memberlist uses 7946).
	BindPort int

	// AdvertiseAddr is the address peers should use to reach this node.
	// Default: the bound address, or with 0.0.0.0 the first private IPv4
	// address of the host (memberlist's choice).
	AdvertiseAddr string
	// AdvertisePort is the port peers should use. Default: the bound port.
	AdvertisePort int

	// Key is the cluster key, 16, 24 or 32 bytes (AES-128/192/256-GCM).
	// Required: gossip is never sent in clear, and messages that are not
	// encrypted with this key are refused.
	Key []byte

	// Profile selects the failure-detector timings. Default ProfileFast
	// ("lan-fast"); see TimingFor.
	Profile Profile

	// Logger receives this package's log lines and memberlist's own, which
	// are re-emitted at their level (DEBUG→Debug, INFO→Info, WARN and
	// ERR→Warn) with the important ones translated into plain sentences.
	// Default: discard.
	Logger *slog.Logger

	// Clock stamps Event.At and Member.Since. Default time.Now. It does not
	// drive memberlist's timers, which are always real time.
	Clock func() time.Time

	// EventBuffer is the capacity of the Events channel. Default 256. When
	// it is full the oldest event is dropped (and a warning logged) so that
	// memberlist is never blocked by a slow reader.
	EventBuffer int
}

const (
	defaultBindAddr    = "0.0.0.0"
	defaultEventBuffer = 256
)

// errNoKey is returned by New when Config.Key is empty.
var errNoKey = errors.New("membership: a cluster key is required")

// withDefaults validates c and returns a copy with the defaults filled in.
// The key is copied so that a caller reusing its slice cannot change it.
func (c Config) withDefaults() (Config, error) {
	if c.Meta.Name == "" {
		return c, errors.New("membership: Meta.Name is required (it is this node's name in the cluster)")
	}
	switch len(c.Key) {
	case 0:
		return c, errNoKey
	case 16, 24, 32:
		c.Key = append([]byte(nil), c.Key...)
	default:
		return c, fmt.Errorf("membership: the cluster key is %d bytes; it must be 16, 24 or 32 bytes (AES-128, -192 or -256)", len(c.Key))
	}
	if c.Profile == "" {
		c.Profile = ProfileFast
	}
	if _, err := TimingFor(c.Profile); err != nil {
		return c, err
	}
	if c.BindAddr == "" {
		c.BindAddr = defaultBindAddr
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		return c, fmt.Errorf("membership: BindPort %d is out of range", c.BindPort)
	}
	if c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		return c, fmt.Errorf("membership: AdvertisePort %d is out of range", c.AdvertisePort)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = defaultEventBuffer
	}
	if _, err := encodeMeta(c.Meta, false); err != nil {
		return c, err
	}
	return c, nil
}
