package bed

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"pacer/agents/builtin"
	"pacer/agents/dummy"
	"pacer/agents/ipaddr2"
	"pacer/agents/ocf"
	"pacer/agents/systemd"
	"pacer/resources"
)

// AgentConfig wires pacer's builtin agents to this node, as if pacerd ran
// inside it: the native IPaddr2 works in the node's network namespace,
// OCF scripts run under nsenter in its network and mount namespaces (so
// their /run is the node's), the systemd agent talks to the node's
// systemd over D-Bus and writes its drop-ins into the node's
// /run/systemd/system, and the native Dummy keeps its state in the node's
// work dir. The agents themselves run in the calling (test) process.
func (n *Node) AgentConfig() builtin.Config {
	return builtin.Config{
		OCF: ocf.Options{Wrapper: []string{"nsenter", "--net=" + n.NetNS(),
			"--mount=" + fmt.Sprintf("/proc/%d/ns/mnt", n.PID), "--"}},
		IPaddr2: ipaddr2.Options{NetNS: n.NetNS()},
		Systemd: systemd.Options{Dial: n.DialBus, DropInDir: n.RuntimeUnitDir()},
		Dummy:   dummy.Options{StateDir: filepath.Join(n.Dir, "dummy"), Node: n.Name},
	}
}

// Executor returns an executor for the node with the agents of cfg
// (usually AgentConfig, maybe adjusted); both are closed by t.Cleanup.
func (n *Node) Executor(t testing.TB, cfg builtin.Config) (*resources.Executor, *builtin.Set) {
	t.Helper()
	set := builtin.New(cfg)
	ex := resources.New(resources.Config{Node: n.Name, Agents: set, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		ex.Close()
		set.Close()
	})
	return ex, set
}
