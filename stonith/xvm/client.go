package xvm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"pacer/stonith"
)

// Transport selects how a request reaches fence_virtd.
type Transport int

const (
	// UDP sends the signed request as a UDP datagram — to the multicast
	// group of fence_virtd's "multicast" listener (what fence_xvm does), or
	// to a unicast address of the host — and waits for fence_virtd to
	// connect back over TCP.
	UDP Transport = iota
	// TCP connects to fence_virtd's "tcp" listener and runs the whole
	// exchange on that connection (what fence_xvm/fence_virt do when given
	// ipaddr; no callback).
	TCP
)

// Defaults, as fence_xvm has them (except Retransmit, see Config).
const (
	DefaultMulticastAddr  = "225.0.0.12"
	DefaultMulticastAddr6 = "ff05::3:1"
	DefaultPort           = 1229
	DefaultTimeout        = 30 * time.Second
	DefaultRetransmit     = time.Second
	DefaultTTL            = 2
)

// Config configures a Client. Zero fields take the defaults.
type Config struct {
	// Key is the shared key: the raw bytes of fence_xvm.key (only the
	// first 4096 bytes count, as in fence_virtd).
	Key []byte
	// Hash signs requests, Auth is the challenge–response hash. Zero means
	// SHA-256 (fence_virtd's default). NoAuth sends unsigned requests and
	// skips the challenge–response, for daemons configured with
	// hash = "none" and auth = "none".
	Hash, Auth Hash
	NoAuth     bool
	Transport  Transport
	// Addr is where requests go: for UDP a multicast group (default
	// 225.0.0.12) or a unicast address, for TCP the address of
	// fence_virtd's tcp listener (default 127.0.0.1); with an optional
	// :port (default 1229).
	Addr string
	// CallbackAddr is the address put in the request for fence_virtd to
	// connect back to (UDP only). Unset, the client does what fence_xvm
	// does: it listens on all addresses and, for a multicast group, sends
	// one datagram per local address of the group's family (that address
	// advertised and used as the multicast interface); for a unicast
	// destination, one datagram from the address that routes to it.
	CallbackAddr netip.Addr
	// CallbackPort is the TCP port to listen on for the callback; zero
	// picks a free one (fence_xvm uses 1229, which serialises every
	// fence_xvm on a host; an ephemeral port does not).
	CallbackPort uint16
	// Retransmit is the interval between resends of the same datagram
	// (fence_xvm: 2 s). fence_virtd drops repeats of a seqno it handled,
	// so resending is safe; a lost datagram then costs this much.
	Retransmit time.Duration
	// Timeout bounds a request when the context has no deadline.
	Timeout time.Duration
	// TTL is the multicast TTL (fence_xvm: 2).
	TTL int
}

// Client talks to fence_virtd. It holds no sockets between calls and is
// safe for concurrent use: each call has its own listener and seqno.
type Client struct {
	cfg      Config
	dest     netip.AddrPort
	isGroup  bool
	destDesc string
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if len(cfg.Key) > MaxKeySize {
		cfg.Key = cfg.Key[:MaxKeySize]
	}
	if cfg.NoAuth {
		cfg.Hash, cfg.Auth = HashNone, HashNone
	} else {
		if cfg.Hash == HashNone {
			cfg.Hash = HashSHA256
		}
		if cfg.Auth == HashNone {
			cfg.Auth = HashSHA256
		}
		if len(cfg.Key) == 0 {
			return nil, errors.New("xvm: empty key (set Config.Key to the contents of fence_xvm.key, or NoAuth)")
		}
	}
	if cfg.Hash > HashSHA512 || cfg.Auth > HashSHA512 {
		return nil, fmt.Errorf("xvm: unknown hash %v/%v", cfg.Hash, cfg.Auth)
	}
	if cfg.Retransmit <= 0 {
		cfg.Retransmit = DefaultRetransmit
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultMulticastAddr
		if cfg.Transport == TCP {
			addr = "127.0.0.1"
		}
	}
	dest, err := parseAddrPort(addr, DefaultPort)
	if err != nil {
		return nil, fmt.Errorf("xvm: address %q: %w", cfg.Addr, err)
	}
	c := &Client{cfg: cfg, dest: dest, isGroup: dest.Addr().IsMulticast()}
	switch {
	case cfg.Transport == TCP:
		c.destDesc = "fence_virtd tcp listener " + dest.String()
	case c.isGroup:
		c.destDesc = "fence_virtd on multicast " + dest.String()
	default:
		c.destDesc = "fence_virtd at " + dest.String()
	}
	if cfg.CallbackAddr.IsValid() && cfg.CallbackAddr.Is4() != dest.Addr().Is4() {
		return nil, fmt.Errorf("xvm: callback address %v and destination %v are of different families", cfg.CallbackAddr, dest.Addr())
	}
	return c, nil
}

// ReadKeyFile reads a fence_xvm key file (raw bytes, at most 4096 used).
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("xvm: reading key file: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("xvm: key file %s is empty", path)
	}
	if len(b) > MaxKeySize {
		b = b[:MaxKeySize]
	}
	return b, nil
}

func parseAddrPort(s string, defPort uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a.Unmap(), defPort), nil
}

// Do sends one request and returns fence_virtd's reply. domain is a domain
// name, or a UUID when byUUID is set (fence_virtd itself looks a domain up
// by UUID whenever the string parses as one). A reply is returned whatever
// its code; errors are for requests that got no valid reply.
func (c *Client) Do(ctx context.Context, op Op, domain string, byUUID bool) (Reply, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	req := Request{Op: op, Hash: c.cfg.Hash, Domain: domain}
	if byUUID {
		req.Flags |= FlagUUID
	}
	var seq [4]byte
	if _, err := rand.Read(seq[:]); err != nil {
		return Reply{}, fmt.Errorf("xvm: seqno: %w", err)
	}
	req.Seqno = binary.LittleEndian.Uint32(seq[:])
	if c.cfg.Transport == TCP {
		return c.doTCP(ctx, &req)
	}
	return c.doUDP(ctx, &req)
}

func (c *Client) sign(req *Request) ([RequestSize]byte, error) {
	if req.Hash != HashNone {
		if _, err := rand.Read(req.Random[:]); err != nil {
			return [RequestSize]byte{}, fmt.Errorf("xvm: salt: %w", err)
		}
	}
	return req.Sign(c.cfg.Key)
}

// doTCP: connect to fence_virtd's tcp listener, send the request, run the
// handshake, read the result on the same connection.
func (c *Client) doTCP(ctx context.Context, req *Request) (Reply, error) {
	b, err := c.sign(req)
	if err != nil {
		return Reply{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.dest.String())
	if err != nil {
		return Reply{}, fmt.Errorf("%w: cannot connect to %s: %v (is fence_virtd running with listener \"tcp\", and TCP %d open?)",
			stonith.ErrNoAnswer, c.destDesc, err, c.dest.Port())
	}
	defer conn.Close()
	stop := bindConn(ctx, conn)
	defer stop()
	if _, err := conn.Write(b[:]); err != nil {
		return Reply{}, c.ioError(ctx, "sending the request", err)
	}
	return c.exchange(ctx, conn, req)
}

// exchange runs the handshake and reads the reply on an established
// connection, turning failures into errors that say what to check.
func (c *Client) exchange(ctx context.Context, conn net.Conn, req *Request) (Reply, error) {
	peer := conn.RemoteAddr().String()
	if err := ClientHandshake(conn, c.cfg.Auth, c.cfg.Key); err != nil {
		switch {
		case errors.Is(err, ErrChallengeFailed):
			return Reply{}, fmt.Errorf("%w: %s (connection from %s) answered our challenge wrongly: "+
				"its key or its auth hash differs from ours (%v)", stonith.ErrAuth, c.destDesc, peer, c.cfg.Auth)
		case errors.Is(err, ErrPeerRejected):
			return Reply{}, fmt.Errorf("%w: %s (connection from %s) closed the connection during the challenge-response, "+
				"which is how it rejects our answer: its key or its auth hash differs from ours (%v)", stonith.ErrAuth, c.destDesc, peer, c.cfg.Auth)
		}
		return Reply{}, c.ioError(ctx, "during the challenge-response", err)
	}
	rep, err := ReadReply(conn)
	if errors.Is(err, io.EOF) && c.cfg.Auth != HashNone {
		// fence_virtd checks our answer to its challenge and, when it is
		// wrong, closes without a word.
		return rep, fmt.Errorf("%w: %s (connection from %s) closed the connection after the challenge-response without a result, "+
			"which is how it rejects our answer: its key or its auth hash differs from ours (%v)", stonith.ErrAuth, c.destDesc, peer, c.cfg.Auth)
	}
	if err != nil {
		return rep, c.ioError(ctx, fmt.Sprintf("reading the result of %v", req.Op), err)
	}
	return rep, nil
}

func (c *Client) ioError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %s: timed out %s: %w", stonith.ErrNoAnswer, c.destDesc, what, ctx.Err())
	}
	return fmt.Errorf("%w: %s: %s: %v", stonith.ErrProtocol, c.destDesc, what, err)
}

// bindConn makes conn's I/O fail as soon as ctx is done.
func bindConn(ctx context.Context, conn net.Conn) (stop func() bool) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
}
