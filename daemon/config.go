package daemon

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is pacerd.toml. 'pcsctl cluster setup' writes one per node.
type Config struct {
	ClusterName string `toml:"cluster_name"`
	NodeName    string `toml:"node_name"`
	// DataDir holds the Raft log and snapshots. Default /var/lib/pacer.
	DataDir string `toml:"data_dir,omitempty"`
	// Socket is the local API for pcsctl. Default /run/pacer/pacerd.sock.
	Socket string `toml:"socket,omitempty"`
	// GossipAddr, RaftAddr, APIAddr are host:port this node listens on
	// and advertises. Defaults: port 7946, 7947 and 2224 on the address
	// given at setup.
	GossipAddr string `toml:"gossip_addr"`
	RaftAddr   string `toml:"raft_addr"`
	APIAddr    string `toml:"api_addr"`
	// KeyFile holds the cluster key (base64, 32 bytes) that encrypts gossip.
	KeyFile string `toml:"key_file"`
	// TLSDir holds ca.pem, node.pem and node-key.pem (Raft and API TLS).
	TLSDir string `toml:"tls_dir"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `toml:"log_level,omitempty"`
	// GossipProfile is lan-fast (default: a crash is seen in < 1 s) or lan
	// (memberlist's stock timings, ~5 s).
	GossipProfile string `toml:"gossip_profile,omitempty"`
	// RaftProfile is fast (default: ~0.6 s to a new leader) or default
	// (hashicorp/raft's stock timings, ~1.7 s).
	RaftProfile string `toml:"raft_profile,omitempty"`
	// VoterReplaceAfter: a Raft voter gone this long is replaced by a live
	// non-voter. Default 30s.
	VoterReplaceAfter Duration `toml:"voter_replace_after,omitempty"`
	// Witness nodes vote in Raft but never run resources.
	Witness bool `toml:"witness,omitempty"`
	// MetricsAddr, when set (host:port), serves GET /metrics over plain
	// HTTP without client certificates, for Prometheus. Default off: the
	// API's /metrics needs the cluster's client certificate.
	MetricsAddr string `toml:"metrics_addr,omitempty"`
	// FenceAgentDirs are searched for external fence_* agents before
	// /usr/sbin, /sbin and /usr/local/sbin.
	FenceAgentDirs []string `toml:"fence_agent_dirs,omitempty"`
	// Peers lists every node of the cluster as set up, this one included.
	// The first three (five when there are five or more) are the initial
	// Raft voters.
	Peers []Peer `toml:"peer"`
}

// Peer is one node as 'cluster setup' knew it.
type Peer struct {
	Name   string `toml:"name"`
	Gossip string `toml:"gossip_addr"`
	Raft   string `toml:"raft_addr"`
	API    string `toml:"api_addr"`
	// Witness marks a vote-only node (pacerd --witness): it is never
	// listed among the CIB's nodes and never placed, probed or fenced.
	Witness bool `toml:"witness,omitempty"`
}

// Duration reads "30s" style values in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. 30s, 2m)", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// LoadConfig reads a TOML file; relative paths in it are taken relative
// to the file's directory so a config directory can be moved whole.
func LoadConfig(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config %s: unknown keys %s: check the spelling (see docs/reference/pacerd.md)", path, strings.Join(keys, ", "))
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.DataDir, &c.Socket, &c.KeyFile, &c.TLSDir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	c.setDefaults()
	return &c, c.Validate()
}

func (c *Config) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/pacer"
	}
	if c.Socket == "" {
		c.Socket = DefaultSocket
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.GossipProfile == "" {
		c.GossipProfile = "lan-fast"
	}
	if c.RaftProfile == "" {
		c.RaftProfile = "fast"
	}
	if c.VoterReplaceAfter.Duration == 0 {
		c.VoterReplaceAfter.Duration = 30 * time.Second
	}
}

// DefaultSocket is where pcsctl looks when neither --socket nor
// PACER_SOCKET is given.
const DefaultSocket = "/run/pacer/pacerd.sock"

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	need := func(field, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", field))
		}
	}
	need("cluster_name", c.ClusterName)
	need("node_name", c.NodeName)
	need("key_file", c.KeyFile)
	need("tls_dir", c.TLSDir)
	for field, v := range map[string]string{"gossip_addr": c.GossipAddr, "raft_addr": c.RaftAddr, "api_addr": c.APIAddr} {
		if _, _, err := net.SplitHostPort(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: use host:port, e.g. 192.0.2.1:7946", field, v))
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics_addr=%q: use host:port, e.g. 192.0.2.1:9664, or leave it out", c.MetricsAddr))
		}
	}
	switch c.GossipProfile {
	case "lan-fast", "lan":
	default:
		errs = append(errs, fmt.Errorf("gossip_profile=%q: use lan-fast or lan", c.GossipProfile))
	}
	switch c.RaftProfile {
	case "fast", "default":
	default:
		errs = append(errs, fmt.Errorf("raft_profile=%q: use fast or default", c.RaftProfile))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	self := false
	for _, p := range c.Peers {
		if p.Name == c.NodeName {
			self = true
		}
	}
	if len(c.Peers) > 0 && !self {
		errs = append(errs, fmt.Errorf("node_name %q is not among the [[peer]] entries", c.NodeName))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid config: %w", errors.Join(errs...))
}

// ReadKey reads a base64 cluster key file.
func ReadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster key: %w (it is made by 'pcsctl cluster setup')", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || (len(key) != 16 && len(key) != 24 && len(key) != 32) {
		return nil, fmt.Errorf("cluster key %s must be 16, 24 or 32 bytes in base64; copy it from the node where the cluster was set up", path)
	}
	return key, nil
}
