package ipaddr2

import (
	"context"
	"sort"
	"time"

	"pacer/agents"
)

// MetaData describes the parameters the native agent honours, with the
// script's names, defaults and advised timeouts, so a resource moves
// between the native agent and the script without changes. The
// parameters it refuses (see the package doc) are listed too, marked in
// their description, so `pcsctl resource create` accepts a configuration
// written for the script.
func (a *Agent) MetaData(context.Context) (*agents.MetaData, error) {
	p := func(name, typ, def, short string) agents.Parameter {
		return agents.Parameter{Name: name, Type: typ, Default: def, ShortDesc: short}
	}
	ip := p("ip", "string", "", "IPv4 or IPv6 address")
	ip.Required, ip.Unique = true, true
	params := []agents.Parameter{
		ip,
		p("nic", "string", "", "Network interface (found from the routing table when not given)"),
		p("cidr_netmask", "string", "", "CIDR netmask (found from the routing table when not given)"),
		p("broadcast", "string", "", "Broadcast address (+ and - as in ip-address(8))"),
		p("iflabel", "string", "", "Interface label (IPv4; nic:iflabel at most 15 characters)"),
		p("arp_interval", "integer", "200", "Milliseconds between gratuitous ARP rounds"),
		p("arp_count", "integer", "5", "Gratuitous ARP rounds (request + reply) sent on start"),
		p("arp_count_refresh", "integer", "0", "Gratuitous ARP rounds sent on each monitor"),
		p("arp_bg", "string", "", "Send all but the first round in the background (default true for IPv4)"),
		p("nodad", "string", "false", "IPv6: skip duplicate address detection"),
		p("noprefixroute", "string", "false", "Do not add a prefix route for the address"),
		p("preferred_lft", "string", "forever", "IPv6 preferred lifetime in seconds"),
	}
	for name, harmless := range unsupported {
		typ := "string"
		if harmless == "false" {
			typ = "boolean"
		}
		params = append(params, agents.Parameter{Name: name, Type: typ, Default: harmless,
			ShortDesc: "not implemented by the native agent (use meta agent-implementation=script)"})
	}
	params = append(params,
		p("clusterip_hash", "string", "sourceip-sourceport", "ignored: clones need the script"),
		p("lvs_ipv6_addrlabel_value", "integer", "99", "ignored"))
	rest := params[12:]
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name < rest[j].Name })
	act := func(name string, timeout, interval time.Duration) agents.ActionSpec {
		return agents.ActionSpec{Name: name, Timeout: timeout, Interval: interval}
	}
	return &agents.MetaData{
		Name:       "IPaddr2",
		Version:    "pacer-native",
		OCFVersion: "1.1",
		ShortDesc:  "Manages virtual IPv4 and IPv6 addresses (native, netlink + gratuitous ARP)",
		LongDesc: "Adds and removes a virtual IP address with netlink and announces it with " +
			"gratuitous ARP, with the parameters and behaviour of ocf:heartbeat:IPaddr2. " +
			"Address removal is reported as it happens (watch).",
		Parameters: params,
		Actions: []agents.ActionSpec{
			act("start", 20*time.Second, 0),
			act("stop", 20*time.Second, 0),
			act("monitor", 20*time.Second, 10*time.Second),
			act("meta-data", 5*time.Second, 0),
			act("validate-all", 20*time.Second, 0),
		},
	}, nil
}
