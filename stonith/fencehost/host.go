// Package fencehost is the fence_virtd side of the fence_xvm protocol on
// top of pacer's own libvirt client: a hypervisor host can run one static
// binary (cmd/fence-host) instead of fence_virtd, and the cluster's
// fence_xvm devices (ours or Debian's fence_xvm) fence through it
// unchanged.
//
// It follows fence-virtd 4.12.1's libvirt backend (see
// shared/fencing/PROTOCOL-fence_xvm.md §8), quirks included, so that it is
// a drop-in replacement: status of an unknown domain is "off", reboot of a
// shut-off domain succeeds without starting it, requests are handled one
// at a time and repeats of a handled (op, seqno, domain) within 10 s are
// dropped.
package fencehost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"pacer/stonith/libvirt"
	"pacer/stonith/xvm"
)

// Config configures a Host.
type Config struct {
	Key     []byte
	MinHash xvm.Hash // weakest request signature accepted (default sha256)
	Auth    xvm.Hash // challenge-response hash (default sha256)
	NoAuth  bool     // hash = auth = none
	// URI is the libvirt URI of the domains to fence.
	URI string
	// Logf receives one line per request (may be nil).
	Logf func(format string, args ...any)
}

// Host serves fence requests for the domains of one libvirt URI.
type Host struct {
	cfg    Config
	target libvirt.Target
	hist   xvm.History
}

// New validates cfg.
func New(cfg Config) (*Host, error) {
	if cfg.NoAuth {
		cfg.MinHash, cfg.Auth = xvm.HashNone, xvm.HashNone
	} else {
		if len(cfg.Key) == 0 {
			return nil, errors.New("fencehost: empty key")
		}
		if cfg.MinHash == xvm.HashNone {
			cfg.MinHash = xvm.HashSHA256
		}
		if cfg.Auth == xvm.HashNone {
			cfg.Auth = xvm.HashSHA256
		}
	}
	if len(cfg.Key) > xvm.MaxKeySize {
		cfg.Key = cfg.Key[:xvm.MaxKeySize]
	}
	t, err := libvirt.ParseURI(cfg.URI)
	if err != nil {
		return nil, err
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Host{cfg: cfg, target: t, hist: xvm.History{Window: 10 * time.Second}}, nil
}

// ListenMulticast joins group (e.g. 225.0.0.12:1229) on the interface
// named ifname ("" = the system's choice) and returns the socket to pass
// to ServeUDP. A unicast address works too (no group is joined).
func ListenMulticast(group, ifname string) (*net.UDPConn, error) {
	ap, err := netip.ParseAddrPort(group)
	if err != nil {
		return nil, fmt.Errorf("fencehost: address %q: %w", group, err)
	}
	ua := net.UDPAddrFromAddrPort(ap)
	if !ap.Addr().IsMulticast() {
		return net.ListenUDP("udp", ua)
	}
	var ifi *net.Interface
	if ifname != "" {
		if ifi, err = net.InterfaceByName(ifname); err != nil {
			return nil, fmt.Errorf("fencehost: interface %q: %w", ifname, err)
		}
	}
	c, err := net.ListenMulticastUDP("udp", ifi, ua)
	if err != nil {
		return nil, fmt.Errorf("fencehost: joining %v on %q: %w", ap, ifname, err)
	}
	return c, nil
}

// ServeUDP handles datagrams from conn until ctx ends, one at a time (as
// fence_virtd): verify, drop repeats, connect back, authenticate, act.
// It creates the callback connections itself, in the calling goroutine.
func (h *Host) ServeUDP(ctx context.Context, conn *net.UDPConn) error {
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fencehost: reading requests: %w", err)
		}
		b := buf[:n]
		if err := xvm.VerifyRequest(b, h.cfg.Key, h.cfg.MinHash); err != nil {
			h.cfg.Logf("dropping request from %v: %v", from, err)
			continue
		}
		req, _ := xvm.ParseRequest(b)
		if h.hist.Seen(req, time.Now()) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = xvm.ServeCallback(rctx, req, h.cfg.Auth, h.cfg.Key, h.handle)
		cancel()
		h.hist.Record(req, time.Now())
		if err != nil {
			h.cfg.Logf("request %v %q from %v: %v", req.Op, req.Domain, from, err)
		}
	}
}

// ServeTCP handles connections of a fence_virtd-style tcp listener until
// ctx ends, one at a time.
func (h *Host) ServeTCP(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fencehost: accepting: %w", err)
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = xvm.ServeConn(rctx, c, h.cfg.MinHash, h.cfg.Auth, h.cfg.Key, h.handle)
		cancel()
		c.Close()
		if err != nil {
			h.cfg.Logf("tcp request from %v: %v", c.RemoteAddr(), err)
		}
	}
}

// handle carries out one authenticated request against libvirt.
func (h *Host) handle(ctx context.Context, req xvm.Request) xvm.Reply {
	start := time.Now()
	rep := h.do(ctx, req)
	h.cfg.Logf("%v %q seqno %d: result %d, %d hosts, %v", req.Op, req.Domain, req.Seqno, rep.Code, len(rep.Hosts),
		time.Since(start).Round(time.Millisecond))
	return rep
}

func (h *Host) do(ctx context.Context, req xvm.Request) xvm.Reply {
	fail := xvm.Reply{Code: xvm.CodeFail}
	switch req.Op {
	case xvm.OpMonitor:
		return xvm.Reply{Code: xvm.CodeSuccess}
	case xvm.OpNull:
		return fail
	}
	c, err := libvirt.Connect(ctx, h.target)
	if err != nil {
		h.cfg.Logf("libvirt: %v", err)
		return fail
	}
	defer c.Close()
	if req.Op == xvm.OpList {
		return h.list(ctx, c)
	}
	dom, err := lookup(ctx, c, req.Domain)
	if err != nil {
		if req.Op == xvm.OpStatus {
			return xvm.Reply{Code: xvm.CodeOff}
		}
		return fail
	}
	st, _, err := c.State(ctx, dom)
	if err != nil {
		return fail
	}
	off := st == libvirt.StateShutoff
	switch req.Op {
	case xvm.OpStatus:
		if off {
			return xvm.Reply{Code: xvm.CodeOff}
		}
	case xvm.OpOff:
		if !off && destroy(ctx, c, dom) != nil {
			return fail
		}
	case xvm.OpOn:
		if off && c.Create(ctx, dom) != nil {
			return fail
		}
	case xvm.OpReboot:
		// fence_virtd: a shut-off domain is left off, and the result is
		// success even if the restart fails.
		if off {
			break
		}
		if destroy(ctx, c, dom) != nil {
			return fail
		}
		if err := c.Create(ctx, dom); err != nil {
			h.cfg.Logf("reboot %q: restart failed: %v", req.Domain, err)
		}
	default:
		return fail
	}
	return xvm.Reply{Code: xvm.CodeSuccess}
}

func lookup(ctx context.Context, c *libvirt.Conn, name string) (libvirt.Domain, error) {
	if u, err := libvirt.ParseUUID(name); err == nil {
		return c.LookupByUUID(ctx, u)
	}
	return c.LookupByName(ctx, name)
}

// destroy destroys dom and waits (up to 15 s, like fence_virtd's reboot)
// for it to be shut off.
func destroy(ctx context.Context, c *libvirt.Conn, dom libvirt.Domain) error {
	if err := c.Destroy(ctx, dom); err != nil && !libvirt.IsCode(err, libvirt.ErrCodeOperationInvalid) {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _, err := c.State(ctx, dom)
		if err != nil || st == libvirt.StateShutoff {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("domain %s still %v", dom.Name, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *Host) list(ctx context.Context, c *libvirt.Conn) xvm.Reply {
	doms, err := c.ListAll(ctx, 0)
	if err != nil {
		return xvm.Reply{Code: xvm.CodeFail}
	}
	rep := xvm.Reply{Code: xvm.CodeSuccess}
	for _, d := range doms {
		st, _, _ := c.State(ctx, d)
		rep.Hosts = append(rep.Hosts, xvm.HostRecord{Name: d.Name, UUID: d.UUID.String(), State: uint8(st)})
	}
	sortHosts(rep.Hosts)
	return rep
}

// sortHosts orders records by name, case-insensitively, as fence_virtd.
func sortHosts(hs []xvm.HostRecord) {
	lower := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	for i := 1; i < len(hs); i++ {
		for j := i; j > 0 && lower(hs[j].Name) < lower(hs[j-1].Name); j-- {
			hs[j], hs[j-1] = hs[j-1], hs[j]
		}
	}
}
