package xvm

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strings"
	"syscall"
)

// Wire sizes.
const (
	RequestSize    = 176 // the signed request datagram
	HostRecordSize = 130 // one entry of a list reply
	ChallengeSize  = 64  // challenges and responses are always 64 bytes
	DomainSize     = 64  // domain field, NUL-terminated
	hashOffset     = 112
	// MaxKeySize is how much of a key file fence_virtd uses.
	MaxKeySize = 4096
)

// Op is the request code of the first byte of a request.
type Op uint8

// Operation codes (fence_virtd's FENCE_*).
const (
	OpNull    Op = 0
	OpOff     Op = 1
	OpReboot  Op = 2
	OpOn      Op = 3
	OpStatus  Op = 4
	OpMonitor Op = 5 // "devstatus": is the daemon alive?
	OpList    Op = 6 // "hostlist"
)

var opNames = [...]string{"null", "off", "reboot", "on", "status", "monitor", "list"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Hash selects the signature algorithm of a request (and, separately
// configured, of the challenge–response). fence_virtd treats its configured
// hash as a minimum: stronger is accepted, weaker is dropped.
type Hash uint8

// Hash types, numbered as on the wire.
const (
	HashNone   Hash = 0
	HashSHA1   Hash = 1
	HashSHA256 Hash = 2
	HashSHA512 Hash = 3
)

func (h Hash) String() string {
	switch h {
	case HashNone:
		return "none"
	case HashSHA1:
		return "sha1"
	case HashSHA256:
		return "sha256"
	case HashSHA512:
		return "sha512"
	}
	return fmt.Sprintf("hash(%d)", uint8(h))
}

// ParseHash accepts none, sha1, sha256 and sha512 (any case), as
// fence_virt.conf and fence_xvm's -c/-C do.
func ParseHash(s string) (Hash, error) {
	for h := HashNone; h <= HashSHA512; h++ {
		if strings.EqualFold(s, h.String()) {
			return h, nil
		}
	}
	return 0, fmt.Errorf("xvm: unknown hash %q (want none, sha1, sha256 or sha512)", s)
}

func (h Hash) new() hash.Hash {
	switch h {
	case HashSHA1:
		return sha1.New()
	case HashSHA256:
		return sha256.New()
	case HashSHA512:
		return sha512.New()
	}
	return nil
}

// Digest returns H(key || data) zero-padded to 64 bytes: the form of both
// the request signature and the challenge responses. It is a plain hash of
// key then message, not an HMAC. For HashNone it returns all zeros.
func Digest(h Hash, key, data []byte) [64]byte {
	var out [64]byte
	if hh := h.new(); hh != nil {
		hh.Write(key)
		hh.Write(data)
		hh.Sum(out[:0])
	}
	return out
}

// Flags of a request.
const (
	FlagUUID uint8 = 0x01 // the domain field is a UUID
)

// Request is the 176-byte datagram that asks fence_virtd for an operation.
// Integers are little-endian on the wire (what x86 fence_xvm sends).
type Request struct {
	Op      Op
	Hash    Hash
	Flags   uint8
	Domain  string     // at most 63 bytes; empty for list and monitor
	Addr    netip.Addr // callback address (invalid = none, TCP listener)
	Port    uint16     // callback TCP port
	Random  [6]byte    // salt, covered by the signature
	Seqno   uint32     // request id; fence_virtd drops repeats for ~10 s
	Family  uint32     // AF_INET or AF_INET6 (0 when Addr is unset)
	Sig     [64]byte   // signature as received (ParseRequest) or computed (Sign)
	AddrLen uint8      // as received; Marshal derives it from Addr
}

// Errors of the codec.
var (
	ErrShortPacket  = errors.New("xvm: packet is not 176 bytes")
	ErrBadSignature = errors.New("xvm: request signature does not match the key")
	ErrWeakHash     = errors.New("xvm: request hash weaker than required")
)

// Marshal returns the wire form with the signature field taken from r.Sig.
// Use Sign to compute the signature.
func (r *Request) Marshal() ([RequestSize]byte, error) {
	var b [RequestSize]byte
	if len(r.Domain) > DomainSize-1 {
		return b, fmt.Errorf("xvm: domain %q longer than %d bytes", r.Domain, DomainSize-1)
	}
	b[0] = byte(r.Op)
	b[1] = byte(r.Hash)
	b[3] = r.Flags
	copy(b[4:4+DomainSize], r.Domain)
	switch {
	case r.Addr.Is4():
		a := r.Addr.As4()
		b[2] = 4
		copy(b[68:], a[:])
	case r.Addr.Is6():
		a := r.Addr.As16()
		b[2] = 16
		copy(b[68:], a[:])
	}
	binary.LittleEndian.PutUint16(b[96:], r.Port)
	copy(b[98:104], r.Random[:])
	binary.LittleEndian.PutUint32(b[104:], r.Seqno)
	binary.LittleEndian.PutUint32(b[108:], r.Family)
	copy(b[hashOffset:], r.Sig[:])
	return b, nil
}

// Sign fills r.Sig with Digest(r.Hash, key, request with a zero signature
// field) and returns the signed wire form. r.Random must be filled first.
func (r *Request) Sign(key []byte) ([RequestSize]byte, error) {
	r.Sig = [64]byte{}
	b, err := r.Marshal()
	if err != nil {
		return b, err
	}
	if r.Hash > HashSHA512 {
		return b, fmt.Errorf("xvm: cannot sign with %v", r.Hash)
	}
	r.Sig = Digest(r.Hash, key, b[:])
	copy(b[hashOffset:], r.Sig[:])
	return b, nil
}

// ParseRequest decodes a datagram. It checks only the size; use
// VerifyRequest for the signature.
func ParseRequest(b []byte) (Request, error) {
	if len(b) != RequestSize {
		return Request{}, fmt.Errorf("%w (got %d)", ErrShortPacket, len(b))
	}
	r := Request{
		Op:      Op(b[0]),
		Hash:    Hash(b[1]),
		AddrLen: b[2],
		Flags:   b[3],
		Domain:  cString(b[4 : 4+DomainSize]),
		Port:    binary.LittleEndian.Uint16(b[96:]),
		Seqno:   binary.LittleEndian.Uint32(b[104:]),
		Family:  binary.LittleEndian.Uint32(b[108:]),
	}
	copy(r.Random[:], b[98:104])
	copy(r.Sig[:], b[hashOffset:])
	switch {
	case r.AddrLen == 4 && r.Family == syscall.AF_INET:
		r.Addr = netip.AddrFrom4([4]byte(b[68:72]))
	case r.AddrLen == 16 && r.Family == syscall.AF_INET6:
		r.Addr = netip.AddrFrom16([16]byte(b[68:84]))
	}
	return r, nil
}

// VerifyRequest checks a received datagram as fence_virtd does: the hash
// type must be at least min; with HashNone nothing is checked; otherwise
// all 64 signature bytes must equal Digest(key, packet with zero signature).
func VerifyRequest(b []byte, key []byte, min Hash) error {
	if len(b) != RequestSize {
		return fmt.Errorf("%w (got %d)", ErrShortPacket, len(b))
	}
	h := Hash(b[1])
	if h < min {
		return fmt.Errorf("%w: %v < %v", ErrWeakHash, h, min)
	}
	if h == HashNone {
		return nil
	}
	if h > HashSHA512 {
		return fmt.Errorf("%w: unknown hash type %d", ErrBadSignature, uint8(h))
	}
	var zeroed [RequestSize]byte
	copy(zeroed[:], b)
	clear(zeroed[hashOffset:])
	want := Digest(h, key, zeroed[:])
	if subtle.ConstantTimeCompare(want[:], b[hashOffset:]) != 1 {
		return ErrBadSignature
	}
	return nil
}

// Result codes: the byte fence_virtd writes at the end of the callback.
const (
	CodeSuccess    byte = 0   // done; for status: the domain is on
	CodeFail       byte = 1   // failed (unknown domain, libvirt error)
	CodeOff        byte = 2   // status: shut off or unknown
	CodePermission byte = 3   // not allowed by the daemon's static map
	CodeHostList   byte = 253 // a host list follows
)

// HostRecord is one domain in a list reply.
type HostRecord struct {
	Name  string
	UUID  string
	State uint8 // libvirt virDomainState: 1 running, 3 paused, 5 shut off...
}

// On reports whether fence_xvm would print the domain as "on" (running).
func (h HostRecord) On() bool { return h.State == 1 }

// IsTerminator reports whether h ends a list (empty name and UUID).
func (h HostRecord) IsTerminator() bool { return h.Name == "" && h.UUID == "" }

// ParseHostRecord decodes one 130-byte record; the pad byte is ignored.
func ParseHostRecord(b []byte) (HostRecord, error) {
	if len(b) != HostRecordSize {
		return HostRecord{}, fmt.Errorf("xvm: host record is %d bytes, want %d", len(b), HostRecordSize)
	}
	return HostRecord{Name: cString(b[:64]), UUID: cString(b[64:128]), State: b[128]}, nil
}

// Marshal encodes the record (names are cut to 63 bytes; pad byte zero).
func (h HostRecord) Marshal() [HostRecordSize]byte {
	var b [HostRecordSize]byte
	copy(b[:63], h.Name)
	copy(b[64:127], h.UUID)
	b[128] = h.State
	return b
}

// cString returns the bytes up to the first NUL (or all of b), with
// invalid UTF-8 replaced so that names are printable.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
