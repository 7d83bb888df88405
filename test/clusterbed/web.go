package clusterbed

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WebOptions shape the service the controller scenarios protect: group
// "web" of a virtual IP (IPaddr2, pacer's native agent) and haproxy (a
// systemd unit of the node), fenced through Debian's fence_virtd.
type WebOptions struct {
	// VIP is the virtual IP; default b.VIP(0).
	VIP string
	// Monitor is the interval of both members' monitors; default 1s.
	Monitor time.Duration
	// Stickiness is the group's resource-stickiness; default 100, as pcs
	// sets for new clusters. Negative means unset.
	Stickiness int
	// MigrationThreshold is the group's migration-threshold; 0 leaves it
	// unset (INFINITY).
	MigrationThreshold int
	// NoFencing creates no fencing device and sets stonith-enabled=false.
	NoFencing bool
	// Wait bounds the wait for the group to run; default 60s.
	Wait time.Duration
}

// FenceDevice is the id SetupWeb gives its fence_xvm device.
const FenceDevice = "vmfence"

// SetupWeb configures the group through admin's pcsctl and waits until
// the cluster has settled with it running. It returns the node that runs
// it.
func (b *Bed) SetupWeb(admin *Node, o WebOptions) (string, error) {
	if o.VIP == "" {
		o.VIP = b.VIP(0)
	}
	if o.Monitor == 0 {
		o.Monitor = time.Second
	}
	if o.Stickiness == 0 {
		o.Stickiness = 100
	}
	if o.Wait == 0 {
		o.Wait = 60 * time.Second
	}
	var nodes []string
	for _, n := range b.Nodes {
		nodes = append(nodes, n.Name+":"+n.Name)
	}
	mon := "interval=" + o.Monitor.String()
	wait := "--wait=" + o.Wait.String()
	steps := [][]string{}
	if o.NoFencing {
		steps = append(steps, []string{"property", "set", "stonith-enabled=false"})
	} else {
		steps = append(steps, []string{"stonith", "create", FenceDevice, "fence_xvm", "key_file=" + NodeKeyFile,
			"pcmk_host_map=" + strings.Join(nodes, ";"), "op", "monitor", "interval=60s"})
	}
	steps = append(steps,
		[]string{"resource", "create", "vip", "ocf:heartbeat:IPaddr2", "ip=" + o.VIP, "cidr_netmask=24", "op", "monitor", mon, "--group", "web"},
		[]string{"resource", "create", "haproxy", "systemd:haproxy", "op", "monitor", mon, "--group", "web"},
	)
	meta := []string{"resource", "meta", "web"}
	if o.Stickiness > 0 {
		meta = append(meta, "resource-stickiness="+strconv.Itoa(o.Stickiness))
	}
	if o.MigrationThreshold > 0 {
		meta = append(meta, "migration-threshold="+strconv.Itoa(o.MigrationThreshold))
	}
	if len(meta) > 3 {
		steps = append(steps, meta)
	}
	steps[len(steps)-1] = append(steps[len(steps)-1], wait)
	for _, args := range steps {
		if out, errOut, code := admin.Pcsctl(args...); code != 0 {
			return "", fmt.Errorf("%s: pcsctl %s: exit %d: %s%s", admin.Name, strings.Join(args, " "), code, out, errOut)
		}
	}
	return b.RunningWeb()
}

// RunningWeb is the node whose eth0 holds the group's VIP and whose
// haproxy unit has live processes, read from the nodes themselves, not
// from pacer; an error when that is not exactly one node.
func (b *Bed) RunningWeb() (string, error) {
	vip := b.VIP(0)
	var on []string
	for _, n := range b.Running() {
		has := false
		for _, a := range n.Addrs() {
			if a == vip {
				has = true
			}
		}
		if has && len(n.UnitPIDs("haproxy.service")) > 0 {
			on = append(on, n.Name)
		}
	}
	if len(on) != 1 {
		return "", fmt.Errorf("web (vip %s + haproxy) runs on %v, want exactly one node", vip, on)
	}
	return on[0], nil
}
