package xvm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"pacer/stonith"
)

// source is one advertised callback address and the interface it is on.
type source struct {
	addr    netip.Addr
	ifindex int
}

// doUDP: listen for the callback, send the signed datagram(s), resend
// every Retransmit until fence_virtd connects back or ctx is done.
func (c *Client) doUDP(ctx context.Context, req *Request) (Reply, error) {
	fam := "tcp4"
	if !c.dest.Addr().Is4() {
		fam = "tcp6"
	}
	var lc net.ListenConfig
	laddr := netip.AddrPortFrom(c.cfg.CallbackAddr, c.cfg.CallbackPort)
	if !c.cfg.CallbackAddr.IsValid() {
		laddr = netip.AddrPortFrom(netip.IPv4Unspecified(), c.cfg.CallbackPort)
		if fam == "tcp6" {
			laddr = netip.AddrPortFrom(netip.IPv6Unspecified(), c.cfg.CallbackPort)
		}
	}
	ln, err := lc.Listen(ctx, fam, laddr.String())
	if err != nil {
		return Reply{}, fmt.Errorf("xvm: listening for the fence_virtd callback on %v: %w", laddr, err)
	}
	defer ln.Close()
	tln := ln.(*net.TCPListener)
	port := uint16(tln.Addr().(*net.TCPAddr).Port)

	srcs, err := c.sources()
	if err != nil {
		return Reply{}, err
	}
	var packets [][RequestSize]byte
	for _, s := range srcs {
		r := *req
		r.Addr, r.Port = s.addr, port
		r.Family = syscall.AF_INET
		if !s.addr.Is4() {
			r.Family = syscall.AF_INET6
		}
		b, err := c.sign(&r)
		if err != nil {
			return Reply{}, err
		}
		packets = append(packets, b)
	}

	pc, err := net.ListenUDP("udp"+fam[3:], nil)
	if err != nil {
		return Reply{}, fmt.Errorf("xvm: opening UDP socket: %w", err)
	}
	defer pc.Close()
	if c.isGroup {
		if err := setMulticastTTL(pc, c.dest.Addr().Is4(), c.cfg.TTL); err != nil {
			return Reply{}, err
		}
	}
	stop := context.AfterFunc(ctx, func() { tln.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	dest := net.UDPAddrFromAddrPort(c.dest)
	sent := 0
	var sendErr error
	for {
		for i, s := range srcs {
			if c.isGroup {
				if err := setMulticastIF(pc, s); err != nil {
					sendErr = err
					continue
				}
			}
			if _, err := pc.WriteToUDP(packets[i][:], dest); err != nil {
				sendErr = fmt.Errorf("sending to %v via %v: %w", dest, s.addr, err)
				continue
			}
			sent++
		}
		if sent == 0 && sendErr != nil {
			return Reply{}, fmt.Errorf("%w: %s: %v (is there a route for %v?)", stonith.ErrNoAnswer, c.destDesc, sendErr, c.dest.Addr())
		}
		wait := time.Now().Add(c.cfg.Retransmit)
		if dl, ok := ctx.Deadline(); ok && dl.Before(wait) {
			wait = dl
		}
		tln.SetDeadline(wait)
		if ctx.Err() != nil {
			break
		}
		conn, err := tln.Accept()
		if err == nil {
			defer conn.Close()
			stopConn := bindConn(ctx, conn)
			defer stopConn()
			return c.exchange(ctx, conn, req)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return Reply{}, fmt.Errorf("xvm: accepting the fence_virtd callback: %w", err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	advertised := fmt.Sprint(srcs[0].addr)
	if len(srcs) > 1 {
		advertised = fmt.Sprintf("%d local addresses", len(srcs))
	}
	return Reply{}, fmt.Errorf("%w: %s did not call back to %s port %d for %v %q (%d datagrams sent): "+
		"check that fence_virtd runs and is reachable on UDP %d, that it can connect back to TCP %d, "+
		"and that its key and hash match ours (%v): it silently drops requests signed with another key or a weaker hash: %w",
		stonith.ErrNoAnswer, c.destDesc, advertised, port, req.Op, req.Domain, sent,
		c.dest.Port(), port, c.cfg.Hash, ctx.Err())
}

// sources lists the callback addresses to advertise.
func (c *Client) sources() ([]source, error) {
	if c.cfg.CallbackAddr.IsValid() {
		return []source{{addr: c.cfg.CallbackAddr, ifindex: ifindexOf(c.cfg.CallbackAddr)}}, nil
	}
	if !c.isGroup {
		// Unicast: the address that routes to the destination.
		conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(c.dest))
		if err != nil {
			return nil, fmt.Errorf("%w: no route to %s: %v", stonith.ErrNoAnswer, c.destDesc, err)
		}
		defer conn.Close()
		a := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		return []source{{addr: a}}, nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("xvm: listing interfaces: %w", err)
	}
	want4 := c.dest.Addr().Is4()
	var out []source
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			if ip.Is4() != want4 {
				continue
			}
			// As fence_xvm: IPv6 loopback and link-local are skipped;
			// IPv4 127.0.0.1 is kept.
			if !want4 && (ip.IsLoopback() || ip.IsLinkLocalUnicast()) {
				continue
			}
			out = append(out, source{addr: ip, ifindex: ifc.Index})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no local address of the family of %v to send from", stonith.ErrNoAnswer, c.dest.Addr())
	}
	return out, nil
}

func ifindexOf(a netip.Addr) int {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, x := range addrs {
			if ipn, ok := x.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == a {
					return ifc.Index
				}
			}
		}
	}
	return 0
}

func setMulticastTTL(pc *net.UDPConn, v4 bool, ttl int) error {
	return control(pc, func(fd int) error {
		if v4 {
			return syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, ttl)
		}
		return syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_HOPS, ttl)
	})
}

func setMulticastIF(pc *net.UDPConn, s source) error {
	return control(pc, func(fd int) error {
		if s.addr.Is4() {
			return syscall.SetsockoptInet4Addr(fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, s.addr.As4())
		}
		return syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_IF, s.ifindex)
	})
}

func control(pc *net.UDPConn, f func(fd int) error) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return fmt.Errorf("xvm: socket: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = f(int(fd)) }); err != nil {
		return fmt.Errorf("xvm: socket: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("xvm: setting multicast option: %w", serr)
	}
	return nil
}
