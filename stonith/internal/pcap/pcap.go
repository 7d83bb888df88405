// Package pcap is a tiny reader for the classic pcap files in
// shared/fencing/captures, for byte-exact protocol tests: IPv4 over
// Ethernet or Linux cooked capture, UDP datagrams and TCP payloads, TCP
// payloads joined into per-direction streams. It is test support, not a
// general packet library (no IPv6, no fragments, no TCP reordering).
package pcap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
)

// Packet is one UDP datagram or one TCP segment with payload.
type Packet struct {
	TCP      bool
	Src, Dst netip.AddrPort
	Payload  []byte
}

// Read returns the UDP datagrams and non-empty TCP segments of a pcap
// file, in capture order.
func Read(path string) ([]Packet, error) {
	d, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(d)
}

// Parse is Read on bytes.
func Parse(d []byte) ([]Packet, error) {
	if len(d) < 24 {
		return nil, fmt.Errorf("pcap: short file")
	}
	magic := binary.LittleEndian.Uint32(d)
	if magic != 0xa1b2c3d4 && magic != 0xa1b23c4d {
		return nil, fmt.Errorf("pcap: not a little-endian pcap (magic %#x)", magic)
	}
	link := binary.LittleEndian.Uint32(d[20:])
	var out []Packet
	for off := 24; off+16 <= len(d); {
		n := int(binary.LittleEndian.Uint32(d[off+8:]))
		off += 16
		if n > len(d)-off {
			return nil, fmt.Errorf("pcap: truncated record at %d", off)
		}
		frame := d[off : off+n]
		off += n
		if p, ok := decode(link, frame); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func decode(link uint32, f []byte) (Packet, bool) {
	switch link {
	case 1: // Ethernet
		if len(f) < 14 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
			return Packet{}, false
		}
		f = f[14:]
	case 113: // Linux SLL
		if len(f) < 16 {
			return Packet{}, false
		}
		f = f[16:]
	case 276: // Linux SLL2
		if len(f) < 20 {
			return Packet{}, false
		}
		f = f[20:]
	default:
		return Packet{}, false
	}
	if len(f) < 20 || f[0]>>4 != 4 {
		return Packet{}, false
	}
	ihl := int(f[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(f[2:]))
	if total < ihl || total > len(f) {
		return Packet{}, false
	}
	proto := f[9]
	src := netip.AddrFrom4([4]byte(f[12:16]))
	dst := netip.AddrFrom4([4]byte(f[16:20]))
	body := f[ihl:total]
	if len(body) < 8 {
		return Packet{}, false
	}
	sp, dp := binary.BigEndian.Uint16(body), binary.BigEndian.Uint16(body[2:])
	p := Packet{Src: netip.AddrPortFrom(src, sp), Dst: netip.AddrPortFrom(dst, dp)}
	switch proto {
	case 17:
		p.Payload = body[8:]
	case 6:
		if len(body) < 20 {
			return Packet{}, false
		}
		hl := int(body[12]>>4) * 4
		if hl > len(body) {
			return Packet{}, false
		}
		p.TCP, p.Payload = true, body[hl:]
		if len(p.Payload) == 0 {
			return Packet{}, false
		}
	default:
		return Packet{}, false
	}
	return p, true
}

// Stream is one TCP connection's payload, per direction. Initiator is the
// side whose segment was seen first (for fence_xvm callbacks with auth,
// that is the fence_xvm side, which speaks first).
type Stream struct {
	A, B       netip.AddrPort
	AtoB, BtoA []byte
}

// Streams groups TCP packets into connections in order of first segment.
func Streams(pkts []Packet) []*Stream {
	var out []*Stream
	idx := map[[2]netip.AddrPort]*Stream{}
	for _, p := range pkts {
		if !p.TCP {
			continue
		}
		s := idx[[2]netip.AddrPort{p.Src, p.Dst}]
		if s == nil {
			s = idx[[2]netip.AddrPort{p.Dst, p.Src}]
		}
		if s == nil {
			s = &Stream{A: p.Src, B: p.Dst}
			idx[[2]netip.AddrPort{p.Src, p.Dst}] = s
			out = append(out, s)
		}
		if p.Src == s.A {
			s.AtoB = append(s.AtoB, p.Payload...)
		} else {
			s.BtoA = append(s.BtoA, p.Payload...)
		}
	}
	return out
}
