package ipaddr2

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv4 = 0x0800
	arpRequest    = 1
	arpReply      = 2
	// FrameLen is the length of a gratuitous ARP frame: a 14-byte Ethernet
	// header and a 28-byte ARP packet for IPv4 over Ethernet.
	FrameLen = 42
)

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// GARPFrame builds a gratuitous ARP frame announcing that ip is at mac,
// broadcast on the link, in one of the two forms neighbours act on:
//
//   - request (op 1): "who-has IP tell IP", sender and target protocol
//     address both the VIP and target hardware address zero, an ARP
//     announcement as RFC 5227 section 2.3 defines it;
//   - reply (op 2): "IP is-at MAC", sender and target protocol address the
//     VIP and target hardware address our own MAC, as iputils' arping -A
//     and resource-agents' send_arp send it.
//
// Linux updates an existing neighbour entry on either; some switches and
// routers only on one of them, which is why both are sent.
func GARPFrame(mac net.HardwareAddr, ip net.IP, reply bool) ([]byte, error) {
	ip4 := ip.To4()
	if ip4 == nil {
		return nil, fmt.Errorf("gratuitous ARP is for IPv4 addresses, not %s", ip)
	}
	if len(mac) != 6 {
		return nil, fmt.Errorf("gratuitous ARP needs a 6-byte Ethernet address, not %q", mac)
	}
	f := make([]byte, FrameLen)
	copy(f[0:6], broadcastMAC)
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], etherTypeARP)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:2], 1) // hardware type: Ethernet
	binary.BigEndian.PutUint16(a[2:4], etherTypeIPv4)
	a[4], a[5] = 6, 4 // hardware and protocol address lengths
	op := uint16(arpRequest)
	if reply {
		op = arpReply
	}
	binary.BigEndian.PutUint16(a[6:8], op)
	copy(a[8:14], mac)  // sender hardware address
	copy(a[14:18], ip4) // sender protocol address: the VIP
	if reply {
		copy(a[18:24], mac) // target hardware address
	} // else zero: RFC 5227 announcement
	copy(a[24:28], ip4) // target protocol address: the VIP
	return f, nil
}

// arpable reports whether the link can carry ARP: up, not loopback, not
// NOARP, with an Ethernet address (send_arp's check_ifflags).
func arpable(l netlink.Link) bool {
	at := l.Attrs()
	return at.Flags&net.FlagLoopback == 0 && at.RawFlags&0x80 == 0 /* IFF_NOARP */ && len(at.HardwareAddr) == 6
}

// garpSender sends gratuitous ARPs on one interface.
type garpSender struct {
	conn *packet.Conn
	mac  net.HardwareAddr
	ip   net.IP
	req  []byte
	rep  []byte
}

// newGARPSender opens an AF_PACKET socket on link inside the agent's
// network namespace.
func (a *Agent) newGARPSender(l netlink.Link, ip net.IP) (*garpSender, error) {
	at := l.Attrs()
	req, err := GARPFrame(at.HardwareAddr, ip, false)
	if err != nil {
		return nil, err
	}
	rep, _ := GARPFrame(at.HardwareAddr, ip, true)
	ifi := &net.Interface{Index: at.Index, MTU: at.MTU, Name: at.Name, HardwareAddr: at.HardwareAddr, Flags: at.Flags}
	var conn *packet.Conn
	err = a.inNetNS(func() error {
		var lerr error
		conn, lerr = packet.Listen(ifi, packet.Raw, etherTypeARP, nil)
		return lerr
	})
	if err != nil {
		return nil, fmt.Errorf("open packet socket on %s: %w", at.Name, err)
	}
	return &garpSender{conn: conn, mac: at.HardwareAddr, ip: ip, req: req, rep: rep}, nil
}

func (s *garpSender) Close() error { return s.conn.Close() }

// round sends one request and one reply.
func (s *garpSender) round() error {
	to := &packet.Addr{HardwareAddr: broadcastMAC}
	if _, err := s.conn.WriteTo(s.req, to); err != nil {
		return fmt.Errorf("send gratuitous ARP request for %s: %w", s.ip, err)
	}
	if _, err := s.conn.WriteTo(s.rep, to); err != nil {
		return fmt.Errorf("send gratuitous ARP reply for %s: %w", s.ip, err)
	}
	return nil
}

// rounds sends n rounds interval apart, stopping early when ctx is done.
// It returns how many rounds went out.
func (s *garpSender) rounds(ctx context.Context, n int, interval time.Duration) (int, error) {
	sent := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			t := time.NewTimer(interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return sent, nil
			case <-t.C:
			}
		}
		if err := s.round(); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}
