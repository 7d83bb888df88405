// Package devices turns a stonith resource (agent name + parameters, as
// in the CIB) into a stonith.Device and its Targeting: fence_xvm and
// fence_libvirt are served natively (stonith/xvm, stonith/libvirt), any
// other fence_* runs as an external agent (stonith/external). It is the
// one place the fencer needs to know which agents exist.
package devices

import (
	"context"
	"fmt"
	"sort"

	"pacer/stonith"
	"pacer/stonith/external"
	"pacer/stonith/libvirt"
	"pacer/stonith/xvm"
)

// Native agent names.
const (
	AgentXVM     = "fence_xvm"
	AgentLibvirt = "fence_libvirt"
)

// Spec is a configured device.
type Spec struct {
	Agent     string
	Device    stonith.Device
	Targeting *stonith.Targeting
	Native    bool
	Meta      *external.Meta
}

// Open builds the device for agent with params. For an external agent it
// runs the agent's meta-data once (cache Specs, not calls to Open).
// dirs are where external agents are searched (default
// external.DefaultDirs()).
func Open(ctx context.Context, agent string, params map[string]string, dirs ...string) (*Spec, error) {
	s := &Spec{Agent: agent}
	var err error
	switch agent {
	case AgentXVM:
		s.Native, s.Meta = true, xvmMeta()
		s.Device, err = xvm.DeviceFromParams(params)
	case AgentLibvirt:
		s.Native, s.Meta = true, libvirtMeta()
		s.Device, err = libvirt.DeviceFromParams(params)
	default:
		var path string
		if path, err = external.Find(agent, dirs...); err != nil {
			return nil, err
		}
		if s.Meta, err = external.Metadata(ctx, path); err != nil {
			return nil, fmt.Errorf("devices: %s: %w", agent, err)
		}
		s.Device = external.NewDevice(path, params, s.Meta)
	}
	if err != nil {
		return nil, fmt.Errorf("devices: %s: %w", agent, err)
	}
	if s.Targeting, err = stonith.NewTargeting(params, s.Meta.Capabilities()); err != nil {
		return nil, err
	}
	return s, nil
}

// Agents lists the agents available: the native ones and the fence_*
// executables installed in dirs.
func Agents(dirs ...string) []string {
	seen := map[string]bool{AgentXVM: true, AgentLibvirt: true}
	out := []string{AgentXVM, AgentLibvirt}
	for _, a := range external.List(dirs...) {
		if !seen[a] {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Describe returns an agent's meta-data: built in for the native agents,
// read from the executable for the others.
func Describe(ctx context.Context, agent string, dirs ...string) (*external.Meta, error) {
	switch agent {
	case AgentXVM:
		return xvmMeta(), nil
	case AgentLibvirt:
		return libvirtMeta(), nil
	}
	path, err := external.Find(agent, dirs...)
	if err != nil {
		return nil, err
	}
	return external.Metadata(ctx, path)
}

func param(name, typ, def, desc string) external.Param {
	p := external.Param{Name: name, ShortDesc: []external.LangText{{Lang: "en", Text: desc}}}
	p.Content.Type, p.Content.Default = typ, def
	return p
}

func actions(names ...string) []external.MetaAction {
	var out []external.MetaAction
	for _, n := range names {
		out = append(out, external.MetaAction{Name: n})
	}
	return out
}

func xvmMeta() *external.Meta {
	return &external.Meta{
		Name:      AgentXVM,
		ShortDesc: "Fence libvirt domains through fence_virtd (native fence_xvm protocol client)",
		LongDesc: "Sends a signed request to fence_virtd on the hypervisor host (multicast, unicast or its tcp listener) " +
			"and waits for it to connect back and prove knowledge of the shared key. Accepts fence_xvm's parameters.",
		Parameters: []external.Param{
			param("key_file", "string", "/etc/cluster/fence_xvm.key", "Shared key file"),
			param("multicast_address", "string", "225.0.0.12", "Multicast address (or a unicast address of the host)"),
			param("ipport", "string", "1229", "UDP port of fence_virtd (TCP port with ipaddr)"),
			param("ipaddr", "string", "", "Use fence_virtd's tcp listener at this address instead of multicast"),
			param("ip_family", "string", "auto", "ipv4 or ipv6 (selects the default multicast address)"),
			param("hash", "string", "sha256", "Request signing hash: none, sha1, sha256, sha512"),
			param("auth", "string", "sha256", "Challenge-response hash: none, sha1, sha256, sha512"),
			param("retrans", "string", "10", "Retransmit interval in tenths of a second"),
			param("timeout", "string", "30", "Timeout in seconds when the fencer sets none"),
			param("use_uuid", "string", "0", "Treat plugs that are UUIDs as UUIDs"),
			param("delay", "string", "0", "Seconds to wait before off, on and reboot"),
			param("callback_address", "string", "", "Address fence_virtd connects back to (default: every local address)"),
			param("callback_port", "string", "0", "TCP port for the callback (default: any free port)"),
		},
		Actions: actions("on", "off", "reboot", "status", "list", "monitor", "metadata"),
	}
}

func libvirtMeta() *external.Meta {
	return &external.Meta{
		Name:      AgentLibvirt,
		ShortDesc: "Fence libvirt domains directly over libvirt's RPC protocol",
		LongDesc:  "Destroys (off), creates (on) or destroys and creates (reboot) a domain through libvirtd's unix socket or plain TCP.",
		Parameters: []external.Param{
			param("uri", "string", "", "libvirt URI, e.g. qemu:///system, lxc+unix:///system?socket=/run/libvirt/libvirt-sock, qemu+tcp://host/system"),
		},
		Actions: actions("on", "off", "reboot", "status", "list", "monitor", "metadata"),
	}
}
