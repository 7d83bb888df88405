// Package builtin wires pacer's standard agents into one agents.Registry:
// OCF scripts (agents/ocf), systemd units (agents/systemd), the native
// IPaddr2 (agents/ipaddr2) and the native Dummy (agents/dummy). pacerd and
// the executor take a *Set; tests build registries of their own.
package builtin

import (
	"log/slog"

	"pacer/agents"
	"pacer/agents/dummy"
	"pacer/agents/ipaddr2"
	"pacer/agents/ocf"
	"pacer/agents/systemd"
	"pacer/crm/cib"
)

// Config holds the options of every backend. Zero values give the
// defaults of a real node; Logger and Clock are passed down to backends
// that have none of their own.
type Config struct {
	OCF     ocf.Options
	Systemd systemd.Options
	IPaddr2 ipaddr2.Options
	Dummy   dummy.Options
	// NoSystemd leaves the systemd class out (hosts without systemd).
	NoSystemd bool
	// NativeDummy uses the native Dummy even where the script is
	// installed: for several nodes on one host (the demo) or non-root
	// runs, since the script keeps its state in /var/run/Dummy-<id>.state,
	// shared by every node of the host. Give each node its own
	// Dummy.StateDir then.
	NativeDummy bool
	// PreferScripts lists agents for which the script is used where a
	// native implementation is the default (e.g. "ocf:heartbeat:IPaddr2").
	PreferScripts []string
	Logger        *slog.Logger
	Clock         agents.Clock
}

// Set is the registry with its backends, which need closing.
type Set struct {
	*agents.Registry
	Scripts *ocf.Runner
	Units   *systemd.Manager // nil with NoSystemd
	IPaddr2 *ipaddr2.Agent
}

// New builds the registry. Resolution rules: agents.Registry.Resolve. The
// native Dummy serves both ocf:heartbeat:Dummy and ocf:pacemaker:Dummy,
// but only where the script is not installed: where it is, the real
// script runs, so that pacer behaves as Pacemaker does on the same host.
func New(cfg Config) *Set {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = agents.SystemClock{}
	}
	if cfg.OCF.Logger == nil {
		cfg.OCF.Logger = cfg.Logger.With("agents", "ocf")
	}
	if cfg.OCF.Clock == nil {
		cfg.OCF.Clock = cfg.Clock
	}
	if cfg.Systemd.Logger == nil {
		cfg.Systemd.Logger = cfg.Logger.With("agents", "systemd")
	}
	if cfg.Systemd.Clock == nil {
		cfg.Systemd.Clock = cfg.Clock
	}
	if cfg.IPaddr2.Logger == nil {
		cfg.IPaddr2.Logger = cfg.Logger.With("agents", "ipaddr2")
	}
	if cfg.IPaddr2.Clock == nil {
		cfg.IPaddr2.Clock = cfg.Clock
	}
	if cfg.Dummy.Logger == nil {
		cfg.Dummy.Logger = cfg.Logger.With("agents", "dummy")
	}
	if cfg.Dummy.Clock == nil {
		cfg.Dummy.Clock = cfg.Clock
	}
	s := &Set{Scripts: ocf.NewRunner(cfg.OCF), IPaddr2: ipaddr2.New(cfg.IPaddr2)}
	rc := agents.RegistryConfig{Scripts: s.Scripts, PreferScripts: cfg.PreferScripts,
		Natives: []agents.Native{{Agent: s.IPaddr2}}}
	for _, provider := range []string{"heartbeat", "pacemaker"} {
		d := cfg.Dummy
		d.Name = cib.AgentName{Class: "ocf", Provider: provider, Type: "Dummy"}
		rc.Natives = append(rc.Natives, agents.Native{Agent: dummy.New(d), Fallback: !cfg.NativeDummy})
	}
	if !cfg.NoSystemd {
		s.Units = systemd.New(cfg.Systemd)
		rc.Units = s.Units
	}
	s.Registry = agents.NewRegistry(rc)
	return s
}

// Close releases the backends' connections and sockets.
func (s *Set) Close() {
	if s.Units != nil {
		s.Units.Close()
	}
	_ = s.IPaddr2.Close()
}
