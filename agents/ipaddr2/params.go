package ipaddr2

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"pacer/agents"
)

// config is a parsed set of IPaddr2 parameters.
type config struct {
	ip       net.IP // 4-byte for IPv4
	v6       bool
	prefix   int    // -1: take it from the route (findif)
	nic      string // "": find it from the route
	label    string // full label "nic:iflabel", IPv4 only
	iflabel  string
	brd      string // "", "+", "-" or an IPv4 address
	arpCount int
	arpIntvl time.Duration
	arpBG    bool
	refresh  int
	noPrefix bool
	noDAD    bool
	prefLft  int // seconds; -1 = forever
}

// key identifies the address for the agent's own bookkeeping.
func (c *config) key() string { return c.ip.String() }

// paramError is a configuration error: OCF_ERR_CONFIGURED, as the script's
// ip_init and findif_check_params return.
type paramError struct {
	code agents.Code
	msg  string
}

func (e *paramError) Error() string { return e.msg }

func errConfigured(format string, args ...any) error {
	return &paramError{code: agents.ErrNotConfigured, msg: fmt.Sprintf(format, args...)}
}

// unsupported lists IPaddr2 parameters the native agent does not
// implement, with the value that is harmless. Anything else is refused
// with OCF_ERR_UNIMPLEMENTED, pointing at the script.
var unsupported = map[string]string{
	"lvs_support":          "false",
	"lvs_ipv6_addrlabel":   "false",
	"mac":                  "",
	"flush_routes":         "false",
	"run_arping":           "false",
	"network_namespace":    "",
	"arp_sender":           "",
	"send_arp_opts":        "",
	"unique_clone_address": "false",
}

// parseConfig reads the parameters as the script's ip_init and
// findif_check_params do. Parameters the native agent does not know
// (clusterip_hash, lvs_ipv6_addrlabel_value, OCF_CHECK_LEVEL, typos) are
// ignored, as the script ignores them; `pcsctl resource create` checks
// names against the metadata.
func parseConfig(params, meta map[string]string) (*config, error) {
	names := make([]string, 0, len(unsupported))
	for name := range unsupported {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		harmless := unsupported[name]
		v, ok := params[name]
		if !ok || (harmless == "false" && !isTrue(v)) || (harmless == "" && strings.TrimSpace(v) == "") {
			continue
		}
		{
			return nil, &paramError{code: agents.ErrUnimplemented,
				msg: fmt.Sprintf("the native IPaddr2 does not implement %s=%s; set meta %s=%s to run the script",
					name, v, agents.MetaImplementation, agents.ImplScript)}
		}
	}
	if n, err := strconv.Atoi(firstOf(meta, "clone-max", "clone_max")); err == nil && n > 1 {
		return nil, &paramError{code: agents.ErrUnimplemented,
			msg: fmt.Sprintf("the native IPaddr2 does not implement cloned (CLUSTERIP) addresses; set meta %s=%s",
				agents.MetaImplementation, agents.ImplScript)}
	}
	c := &config{prefix: -1, arpCount: 5, arpIntvl: 200 * time.Millisecond, prefLft: -1}
	ipStr := strings.TrimSpace(params["ip"])
	if ipStr == "" {
		return nil, errConfigured("IP address (the ip parameter) is mandatory")
	}
	ip := net.ParseIP(ipStr)
	if ip == nil {
		return nil, errConfigured("IP address [%s] not valid", ipStr)
	}
	if v4 := ip.To4(); v4 != nil && !strings.Contains(ipStr, ":") {
		c.ip = v4
	} else {
		c.ip, c.v6 = ip.To16(), true
	}
	maxBits := 32
	if c.v6 {
		maxBits = 128
	}
	mask := strings.TrimSpace(params["cidr_netmask"])
	if mask == "" {
		mask = strings.TrimSpace(params["netmask"]) // the old alias the script still honours
	}
	if mask != "" {
		p, err := parsePrefix(mask, maxBits, c.v6)
		if err != nil {
			return nil, err
		}
		c.prefix = p
	}
	c.nic = strings.TrimSpace(params["nic"])
	c.iflabel = strings.TrimSpace(params["iflabel"])
	if nic, lbl, ok := strings.Cut(c.nic, ":"); ok { // "eth0:vip" form
		c.nic, c.iflabel = nic, lbl
	}
	if c.nic != "" && (len(c.nic) > 15 || strings.ContainsAny(c.nic, "/ ")) {
		return nil, errConfigured("Invalid interface name [%s]", c.nic)
	}
	if b := strings.TrimSpace(params["broadcast"]); b != "" {
		if c.v6 {
			return nil, errConfigured("broadcast is for IPv4 addresses only")
		}
		if b != "+" && b != "-" && net.ParseIP(b).To4() == nil {
			return nil, errConfigured("Invalid broadcast address [%s]", b)
		}
		c.brd = b
	}
	var err error
	if c.arpCount, err = intParam(params, "arp_count", 5, 0); err != nil {
		return nil, err
	}
	ms, err := intParam(params, "arp_interval", 200, 1)
	if err != nil {
		return nil, err
	}
	c.arpIntvl = time.Duration(ms) * time.Millisecond
	if c.refresh, err = intParam(params, "arp_count_refresh", 0, 0); err != nil {
		return nil, err
	}
	c.arpBG = !c.v6
	if v, ok := params["arp_bg"]; ok && strings.TrimSpace(v) != "" {
		c.arpBG = isTrue(v)
	}
	c.noPrefix = isTrue(params["noprefixroute"])
	c.noDAD = isTrue(params["nodad"])
	if v := strings.TrimSpace(params["preferred_lft"]); v != "" && v != "forever" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errConfigured("Invalid preferred_lft [%s]: use seconds or forever", v)
		}
		if !c.v6 {
			return nil, errConfigured("preferred_lft is for IPv6 addresses only")
		}
		c.prefLft = n
	}
	return c, nil
}

// setLabel completes the label once the interface is known.
func (c *config) setLabel() error {
	if c.iflabel == "" || c.v6 {
		return nil
	}
	c.label = c.nic + ":" + c.iflabel
	if len(c.label) > 15 {
		return errConfigured("Interface label [%s] exceeds maximum character limit of 15", c.label)
	}
	return nil
}

func parsePrefix(s string, maxBits int, v6 bool) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > maxBits {
			return 0, errConfigured("Invalid netmask specification [%s]", s)
		}
		return n, nil
	}
	// A dotted quad, which findif converts (with a warning).
	if ip := net.ParseIP(s).To4(); ip != nil && !v6 {
		if ones, bits := net.IPv4Mask(ip[0], ip[1], ip[2], ip[3]).Size(); bits == 32 {
			return ones, nil
		}
	}
	return 0, errConfigured("Invalid netmask specification [%s]", s)
}

func intParam(params map[string]string, name string, def, min int) (int, error) {
	v := strings.TrimSpace(params[name])
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, errConfigured("Invalid %s [%s]: want an integer >= %d", name, v, min)
	}
	return n, nil
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true
	}
	return false
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return ""
}
