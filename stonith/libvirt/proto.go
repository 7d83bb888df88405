package libvirt

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Programs, versions and message types (src/rpc/virnetprotocol.x).
const (
	remoteProgram    = 0x20008086
	keepaliveProgram = 0x6b656570 // "keep"
	protocolVersion  = 1

	typeCall    = 0
	typeReply   = 1
	typeMessage = 2

	statusOK    = 0
	statusError = 1

	headerSize = 24
	// MaxMessage is VIR_NET_MESSAGE_MAX: no frame may be longer.
	MaxMessage = 16 * 1024 * 1024

	maxNameLen    = 4 * 1024 * 1024 // REMOTE_STRING_MAX
	maxDomainList = 16384           // REMOTE_DOMAIN_LIST_MAX
)

// Procedure numbers (src/remote/remote_protocol.x).
const (
	procConnectOpen            = 1
	procConnectClose           = 2
	procDomainCreate           = 9
	procDomainDestroy          = 12
	procDomainLookupByName     = 23
	procDomainLookupByUUID     = 24
	procConnectSupportsFeature = 60
	procAuthList               = 66
	procAuthPolkit             = 70
	procConnectGetURI          = 110
	procDomainGetState         = 212
	procConnectListAllDomains  = 273

	keepalivePing = 1
	keepalivePong = 2
)

var procNames = map[int32]string{
	procConnectOpen: "CONNECT_OPEN", procConnectClose: "CONNECT_CLOSE", procDomainCreate: "DOMAIN_CREATE",
	procDomainDestroy: "DOMAIN_DESTROY", procDomainLookupByName: "DOMAIN_LOOKUP_BY_NAME",
	procDomainLookupByUUID: "DOMAIN_LOOKUP_BY_UUID", procConnectSupportsFeature: "CONNECT_SUPPORTS_FEATURE",
	procAuthList: "AUTH_LIST", procAuthPolkit: "AUTH_POLKIT", procConnectGetURI: "CONNECT_GET_URI", procDomainGetState: "DOMAIN_GET_STATE",
	procConnectListAllDomains: "CONNECT_LIST_ALL_DOMAINS",
}

func procName(p int32) string {
	if n, ok := procNames[p]; ok {
		return n
	}
	return fmt.Sprintf("procedure %d", p)
}

// Header is the fixed part of every frame after the length word.
type Header struct {
	Program uint32
	Version uint32
	Proc    int32
	Type    int32
	Serial  uint32
	Status  int32
}

// Frame is one message: header and XDR payload.
type Frame struct {
	Header
	Payload []byte
}

// Marshal returns the wire form: total length (including itself), header,
// payload.
func (f Frame) Marshal() []byte {
	b := make([]byte, 4+headerSize, 4+headerSize+len(f.Payload))
	binary.BigEndian.PutUint32(b[0:], uint32(4+headerSize+len(f.Payload)))
	binary.BigEndian.PutUint32(b[4:], f.Program)
	binary.BigEndian.PutUint32(b[8:], f.Version)
	binary.BigEndian.PutUint32(b[12:], uint32(f.Proc))
	binary.BigEndian.PutUint32(b[16:], uint32(f.Type))
	binary.BigEndian.PutUint32(b[20:], f.Serial)
	binary.BigEndian.PutUint32(b[24:], uint32(f.Status))
	return append(b, f.Payload...)
}

// ReadFrame reads one frame, refusing lengths outside [28, MaxMessage].
func ReadFrame(r io.Reader) (Frame, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n < 4+headerSize || n > MaxMessage {
		return Frame{}, fmt.Errorf("libvirt: frame length %d out of range", n)
	}
	b := make([]byte, n-4)
	if _, err := io.ReadFull(r, b); err != nil {
		return Frame{}, fmt.Errorf("libvirt: reading a %d-byte frame: %w", n, err)
	}
	return ParseFrame(b)
}

// ParseFrame decodes a frame without its length word.
func ParseFrame(b []byte) (Frame, error) {
	if len(b) < headerSize {
		return Frame{}, fmt.Errorf("libvirt: frame of %d bytes is shorter than a header", len(b))
	}
	return Frame{Header: Header{
		Program: binary.BigEndian.Uint32(b[0:]),
		Version: binary.BigEndian.Uint32(b[4:]),
		Proc:    int32(binary.BigEndian.Uint32(b[8:])),
		Type:    int32(binary.BigEndian.Uint32(b[12:])),
		Serial:  binary.BigEndian.Uint32(b[16:]),
		Status:  int32(binary.BigEndian.Uint32(b[20:])),
	}, Payload: b[headerSize:]}, nil
}

// UUID is a domain's 16-byte UUID.
type UUID [16]byte

// ParseUUID accepts the canonical 36-character form (or 32 hex digits).
func ParseUUID(s string) (UUID, error) {
	var u UUID
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || (len(s) != 32 && (len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')) {
		return u, fmt.Errorf("libvirt: %q is not a UUID", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("libvirt: %q is not a UUID: %w", s, err)
	}
	return u, nil
}

func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Domain is remote_nonnull_domain: send it back verbatim in per-domain
// calls. ID is -1 for an inactive domain.
type Domain struct {
	Name string
	UUID UUID
	ID   int32
}

// DomainState is libvirt's virDomainState.
type DomainState int32

// Domain states.
const (
	StateNoState     DomainState = 0
	StateRunning     DomainState = 1
	StateBlocked     DomainState = 2
	StatePaused      DomainState = 3
	StateShutdown    DomainState = 4 // shutting down
	StateShutoff     DomainState = 5
	StateCrashed     DomainState = 6
	StatePMSuspended DomainState = 7
)

var stateNames = []string{"nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"}

func (s DomainState) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int32(s))
}

// Shut-off reason of DOMAIN_GET_STATE when the state is StateShutoff.
const (
	ReasonShutoffDestroyed = 2
)

// Flags of ListAllDomains (0 = all).
const (
	ListActive   uint32 = 1
	ListInactive uint32 = 2
)
