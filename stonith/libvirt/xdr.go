package libvirt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A hand-written XDR (RFC 4506) encoder and decoder for the handful of
// types the libvirt procedures below use. Everything is big-endian and
// padded to 4 bytes.

type encoder struct{ b []byte }

func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) i32(v int32)  { e.u32(uint32(v)) }

func (e *encoder) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.pad(len(s))
}

func (e *encoder) pad(n int) {
	for ; n%4 != 0; n++ {
		e.b = append(e.b, 0)
	}
}

// optStr encodes remote_string: absent (nil) or present.
func (e *encoder) optStr(s *string) {
	if s == nil {
		e.u32(0)
		return
	}
	e.u32(1)
	e.str(*s)
}

func (e *encoder) uuid(u UUID) { e.b = append(e.b, u[:]...) }

func (e *encoder) domain(d Domain) {
	e.str(d.Name)
	e.uuid(d.UUID)
	e.i32(d.ID)
}

// errShort is returned when a reply ends before its fields do.
var errShort = errors.New("libvirt: reply too short")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) i32() int32 { return int32(d.u32()) }

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// str decodes a string of at most max bytes (the .x file's bound).
func (d *decoder) str(max int) string {
	n := d.u32()
	if d.err == nil && n > uint32(max) {
		d.err = fmt.Errorf("libvirt: string of %d bytes exceeds the limit %d", n, max)
		return ""
	}
	b := d.take(int(n))
	d.take(int((4 - n%4) % 4))
	return string(b)
}

func (d *decoder) optStr(max int) *string {
	switch d.u32() {
	case 0:
		return nil
	case 1:
		s := d.str(max)
		return &s
	default:
		if d.err == nil {
			d.err = errors.New("libvirt: bad optional-data marker")
		}
		return nil
	}
}

func (d *decoder) uuid() UUID {
	var u UUID
	copy(u[:], d.take(16))
	return u
}

func (d *decoder) domain() Domain {
	return Domain{Name: d.str(maxNameLen), UUID: d.uuid(), ID: d.i32()}
}

func (d *decoder) optDomain() *Domain {
	switch d.u32() {
	case 0:
		return nil
	case 1:
		dom := d.domain()
		return &dom
	default:
		if d.err == nil {
			d.err = errors.New("libvirt: bad optional-data marker")
		}
		return nil
	}
}

// done returns the first decoding error.
func (d *decoder) done() error { return d.err }
