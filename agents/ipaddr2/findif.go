package ipaddr2

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"pacer/agents"
)

// target is where the address goes: the interface, the prefix length and
// the broadcast address (nil: none).
type target struct {
	link   netlink.Link
	prefix int
	brd    net.IP
}

func (t *target) ipnet(c *config) *net.IPNet {
	bits := 32
	if c.v6 {
		bits = 128
	}
	return &net.IPNet{IP: c.ip, Mask: net.CIDRMask(t.prefix, bits)}
}

// resolve finds the interface, prefix and broadcast the way the script's
// findif does: with nic and cidr_netmask both given they are taken as
// they are; otherwise the longest matching non-default route of the main
// table (scope link for IPv4; only on nic when nic is given) supplies the
// missing ones, and the broadcast comes from the address the route's
// preferred source belongs to. strict (start, validate-all) also checks
// that nic exists, as findif_check_params does.
func resolve(h *netlink.Handle, c *config, strict bool) (*target, error) {
	var nicLink netlink.Link
	if c.nic != "" {
		l, err := h.LinkByName(c.nic)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
				if strict {
					return nil, errConfigured("Invalid interface name [%s]: no such interface", c.nic)
				}
				return nil, &paramError{code: agents.ErrGeneric, msg: fmt.Sprintf("interface %s not found", c.nic)}
			}
			return nil, fmt.Errorf("look up interface %s: %w", c.nic, err)
		}
		nicLink = l
	}
	t := &target{link: nicLink, prefix: c.prefix}
	route, err := bestRoute(h, c, nicLink)
	if err != nil {
		return nil, err
	}
	if nicLink == nil || c.prefix < 0 {
		if route == nil {
			return nil, &paramError{code: agents.ErrGeneric, msg: "Unable to find nic or netmask."}
		}
		if nicLink == nil {
			l, err := h.LinkByIndex(route.LinkIndex)
			if err != nil {
				return nil, fmt.Errorf("look up interface %d of route %s: %w", route.LinkIndex, route.Dst, err)
			}
			t.link = l
			c.nic = l.Attrs().Name
		}
		if c.prefix < 0 {
			t.prefix, _ = route.Dst.Mask.Size()
		}
	}
	if err := c.setLabel(); err != nil {
		return nil, err
	}
	if c.v6 {
		return t, nil
	}
	switch c.brd {
	case "":
		if route != nil && route.Src != nil {
			t.brd = broadcastOf(h, route.Src)
		}
	case "+", "-":
		n := t.ipnet(c)
		b := make(net.IP, 4)
		for i := range b {
			b[i] = c.ip[i] & n.Mask[i]
			if c.brd == "+" {
				b[i] |= ^n.Mask[i]
			}
		}
		t.brd = b
	default:
		t.brd = net.ParseIP(c.brd).To4()
	}
	return t, nil
}

// bestRoute is `ip -o -f FAMILY route list match IP[/PREFIX] [scope link]`
// followed by findif's awk: the longest prefix, the last one on a tie.
func bestRoute(h *netlink.Handle, c *config, nic netlink.Link) (*netlink.Route, error) {
	family := netlink.FAMILY_V4
	if c.v6 {
		family = netlink.FAMILY_V6
	}
	routes, err := h.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var best *netlink.Route
	bestLen := -1
	for i := range routes {
		r := &routes[i]
		if r.Dst == nil || !r.Dst.Contains(c.ip) {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		if ones == 0 { // default routes never match in findif
			continue
		}
		if !c.v6 && r.Scope != netlink.SCOPE_LINK {
			continue
		}
		if c.prefix >= 0 && ones > c.prefix {
			continue // `match 10.0.0.5/24` lists only routes covering the /24
		}
		if nic != nil && r.LinkIndex != nic.Attrs().Index {
			continue
		}
		if ones >= bestLen {
			best, bestLen = r, ones
		}
	}
	return best, nil
}

// broadcastOf returns the broadcast of the IPv4 address src, or nil.
func broadcastOf(h *netlink.Handle, src net.IP) net.IP {
	addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if a.IP.Equal(src) && a.Broadcast != nil && !a.Broadcast.IsUnspecified() {
			return a.Broadcast.To4()
		}
	}
	return nil
}

// served reports whether ip/prefix is on the target interface (the
// script's ip_served: "ok" only on $NIC).
func served(h *netlink.Handle, c *config, t *target) (bool, error) {
	family := netlink.FAMILY_V4
	if c.v6 {
		family = netlink.FAMILY_V6
	}
	addrs, err := h.AddrList(t.link, family)
	if err != nil {
		return false, fmt.Errorf("list addresses of %s: %w", t.link.Attrs().Name, err)
	}
	for _, a := range addrs {
		if ones, _ := a.Mask.Size(); a.IP.Equal(c.ip) && ones == t.prefix {
			return true, nil
		}
	}
	return false, nil
}
