package agents

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"pacer/crm/cib"
)

// Sentinel errors of the registry; match with errors.Is.
var (
	ErrUnknownAgent     = errors.New("agents: unknown agent")
	ErrUnsupportedClass = errors.New("agents: unsupported agent class")
)

// MetaImplementation is the meta attribute that picks between a native
// implementation and the real script where pacer has both:
// "native" or "script". Unset means the registry's default for that agent
// (native for IPaddr2, the script for Dummy when it is installed).
const MetaImplementation = "agent-implementation"

// Implementation values of MetaImplementation.
const (
	ImplNative = "native"
	ImplScript = "script"
)

// ScriptBackend runs OCF scripts (agents/ocf implements it).
type ScriptBackend interface {
	// Agent returns the agent running /usr/lib/ocf/resource.d/PROVIDER/TYPE.
	// It need not exist: operations then fail with ErrNotInstalled.
	Agent(provider, typ string) Agent
	// Installed reports whether the script exists and is executable.
	Installed(provider, typ string) bool
	// List lists the installed scripts of provider ("" for all providers).
	List(provider string) ([]cib.AgentName, error)
}

// UnitBackend manages systemd units (agents/systemd implements it).
type UnitBackend interface {
	// Agent returns the agent for a unit ("haproxy" or "haproxy.service").
	Agent(unit string) Agent
	// List lists the unit files systemd knows.
	List(ctx context.Context) ([]cib.AgentName, error)
}

// Native is a Go implementation of an agent that also exists as a script.
type Native struct {
	Agent Agent
	// Fallback means the native agent only stands in for the script when
	// the script is not installed (Dummy). Otherwise the native agent is
	// the default and the script is used only when asked for (IPaddr2).
	Fallback bool
}

// Registry resolves agent names to implementations. Build it with
// NewRegistry; agents/builtin wires the standard backends.
type Registry struct {
	scripts       ScriptBackend
	units         UnitBackend
	natives       map[string]Native // by full name, e.g. "ocf:heartbeat:IPaddr2"
	preferScripts map[string]bool
}

// RegistryConfig holds the backends. Nil backends disable their class.
type RegistryConfig struct {
	Scripts ScriptBackend
	Units   UnitBackend
	Natives []Native
	// PreferScripts lists agent names (ocf:heartbeat:IPaddr2) for which
	// the script is used even where the native agent is the default, for
	// a cluster that wants the reference behaviour everywhere.
	PreferScripts []string
}

// NewRegistry builds a registry.
func NewRegistry(cfg RegistryConfig) *Registry {
	r := &Registry{
		scripts:       cfg.Scripts,
		units:         cfg.Units,
		natives:       map[string]Native{},
		preferScripts: map[string]bool{},
	}
	for _, n := range cfg.Natives {
		r.natives[n.Agent.Name().String()] = n
	}
	for _, s := range cfg.PreferScripts {
		r.preferScripts[s] = true
	}
	return r
}

// Resolve returns the implementation for name. meta is the resource's meta
// attributes; only MetaImplementation is read. The rules:
//
//   - ocf:P:T with a native implementation: native by default, the script
//     when meta says "script" or PreferScripts lists it; for Fallback
//     natives (Dummy) the script when it is installed, else the native.
//   - other ocf:P:T: the script runner.
//   - systemd:U and service:U: the systemd backend (pacer runs on systemd
//     hosts only, where Pacemaker maps service: to systemd too).
//   - a bare type ("IPaddr2"): resolved as ocf:heartbeat:T when pacer has
//     a native T.
//   - lsb, stonith and anything else: ErrUnsupportedClass.
func (r *Registry) Resolve(name cib.AgentName, meta map[string]string) (Agent, error) {
	if name.Class == "" {
		n, ok := r.nativeByType(name.Type)
		if !ok {
			return nil, fmt.Errorf("%w: %q: give the full name, e.g. ocf:heartbeat:%s or systemd:%s",
				ErrUnknownAgent, name.Type, name.Type, name.Type)
		}
		name = n
	}
	impl := strings.ToLower(strings.TrimSpace(meta[MetaImplementation]))
	if impl != "" && impl != ImplNative && impl != ImplScript {
		return nil, fmt.Errorf("%w: meta %s=%q: use %q or %q", ErrUnknownAgent, MetaImplementation, impl, ImplNative, ImplScript)
	}
	switch name.Class {
	case "ocf":
		return r.resolveOCF(name, impl)
	case "systemd", "service":
		if r.units == nil {
			return nil, fmt.Errorf("%w: %s: no systemd backend on this node", ErrUnsupportedClass, name)
		}
		if impl == ImplNative {
			return nil, fmt.Errorf("%w: %s: systemd units have no native alternative", ErrUnknownAgent, name)
		}
		return r.units.Agent(name.Type), nil
	default:
		return nil, fmt.Errorf("%w: %s: pacer runs ocf and systemd agents (class %q is not supported)",
			ErrUnsupportedClass, name, name.Class)
	}
}

func (r *Registry) resolveOCF(name cib.AgentName, impl string) (Agent, error) {
	if name.Provider == "" || name.Type == "" {
		return nil, fmt.Errorf("%w: %q: ocf agents need a provider and a type", ErrUnknownAgent, name)
	}
	n, hasNative := r.natives[name.String()]
	script := func() (Agent, error) {
		if r.scripts == nil {
			return nil, fmt.Errorf("%w: %s: no OCF script runner on this node", ErrUnsupportedClass, name)
		}
		return r.scripts.Agent(name.Provider, name.Type), nil
	}
	switch {
	case !hasNative:
		if impl == ImplNative {
			return nil, fmt.Errorf("%w: %s has no native implementation; drop meta %s", ErrUnknownAgent, name, MetaImplementation)
		}
		return script()
	case impl == ImplNative:
		return n.Agent, nil
	case impl == ImplScript:
		return script()
	case n.Fallback:
		if r.scripts != nil && r.scripts.Installed(name.Provider, name.Type) {
			return script()
		}
		return n.Agent, nil
	case r.preferScripts[name.String()]:
		return script()
	default:
		return n.Agent, nil
	}
}

func (r *Registry) nativeByType(typ string) (cib.AgentName, bool) {
	var match []cib.AgentName
	for _, n := range r.natives {
		if a := n.Agent.Name(); strings.EqualFold(a.Type, typ) {
			match = append(match, a)
		}
	}
	if len(match) == 0 {
		return cib.AgentName{}, false
	}
	// ocf:heartbeat wins over ocf:pacemaker for a bare name, as pcs does
	// when both exist (heartbeat is the standard provider).
	sort.Slice(match, func(i, j int) bool { return match[i].String() < match[j].String() })
	return match[0], true
}

// List returns the agents available here for `pcsctl resource agents`:
// class "" for all, "ocf" (optionally with provider) or "systemd". Native
// agents are listed under their OCF names even when no script is
// installed.
func (r *Registry) List(ctx context.Context, class, provider string) ([]cib.AgentName, error) {
	seen := map[string]cib.AgentName{}
	add := func(list []cib.AgentName) {
		for _, a := range list {
			seen[a.String()] = a
		}
	}
	if class == "" || class == "ocf" {
		if r.scripts != nil {
			list, err := r.scripts.List(provider)
			if err != nil {
				return nil, fmt.Errorf("list ocf agents: %w", err)
			}
			add(list)
		}
		for _, n := range r.natives {
			if a := n.Agent.Name(); provider == "" || a.Provider == provider {
				add([]cib.AgentName{a})
			}
		}
	}
	if (class == "" || class == "systemd" || class == "service") && r.units != nil {
		list, err := r.units.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("list systemd units: %w", err)
		}
		add(list)
	}
	out := make([]cib.AgentName, 0, len(seen))
	for _, a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}
