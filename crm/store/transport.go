package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

const (
	// handshakeTimeout bounds a TLS handshake on an accepted connection.
	// Without it a peer that connects and sends nothing would hold a
	// goroutine and a socket forever: raft reads inbound connections with
	// no deadline, since pooled connections are idle most of the time.
	handshakeTimeout = 10 * time.Second
	// refusalLogEvery limits "refused" log lines to one per remote host
	// per period: a foreign node retries every election timeout.
	refusalLogEvery = time.Minute
)

// tlsStream is raft's StreamLayer over TCP with mutual TLS: every raft
// RPC, inbound or outbound, rides on a connection whose peer proved a
// certificate from the cluster CA (see pki.Config). A node without one
// cannot vote, append entries or install a snapshot.
type tlsStream struct {
	ln        net.Listener
	advertise net.Addr
	cfg       *tls.Config
	log       *slog.Logger

	refused atomic.Uint64 // handshakes that failed, both directions

	mu        sync.Mutex
	closed    bool
	conns     map[*streamConn]struct{}
	lastLoggd map[string]time.Time
}

// newTLSStream wraps a bound listener. advertise is the address other
// nodes dial; when empty the listener's own address is used, which must
// then be a specific IP (not 0.0.0.0) because it is stored in the Raft
// configuration for the others to dial.
func newTLSStream(ln net.Listener, advertise string, cfg *tls.Config, log *slog.Logger) (*tlsStream, error) {
	var adv net.Addr = ln.Addr()
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			return nil, fmt.Errorf("advertise address %q: %w", advertise, err)
		}
		adv = a
	}
	ta, ok := adv.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("raft address %s is not a TCP address", adv)
	}
	if ta.IP == nil || ta.IP.IsUnspecified() || ta.Port == 0 {
		return nil, fmt.Errorf("raft address %s is not one other nodes can dial: set AdvertiseAddr to this node's IP:port", adv)
	}
	return &tlsStream{
		ln: ln, advertise: adv, cfg: cfg, log: log,
		conns:     map[*streamConn]struct{}{},
		lastLoggd: map[string]time.Time{},
	}, nil
}

// Accept returns the next inbound connection. The TLS handshake runs on
// the connection's first Read or Write, in raft's per-connection
// goroutine, so one slow or hostile peer cannot stall the accept loop.
func (s *tlsStream) Accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	sc := &streamConn{Conn: tls.Server(c, s.cfg), s: s}
	if !s.track(sc) {
		return nil, net.ErrClosed
	}
	return sc, nil
}

// Dial connects to a peer and completes the handshake before returning,
// so a refused certificate fails the RPC at once with a TLS error.
func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	// The transport's timeout also bounds whole RPCs (snapshots); a peer
	// on the LAN answers a connect and a handshake far sooner, and one
	// that does not (its link is cut) must not hold an election or a
	// raft shutdown for the full RPC timeout.
	ctx, cancel := context.WithTimeout(context.Background(), min(timeout, maxDial))
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", string(addr))
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, s.cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		s.refuse(string(addr), "dial", err)
		return nil, fmt.Errorf("TLS handshake with raft peer %s: %w", addr, err)
	}
	sc := &streamConn{Conn: tc, s: s}
	sc.hsOnce.Do(func() {}) // done above
	if !s.track(sc) {
		_ = tc.Close()
		return nil, net.ErrClosed
	}
	return sc, nil
}

// Addr is the advertised address: raft records it as this node's address.
func (s *tlsStream) Addr() net.Addr { return s.advertise }

// Close stops listening and closes every open connection, inbound and
// outbound, as a crashed process would: peers see the node gone at once
// instead of at their next write.
func (s *tlsStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	err := s.ln.Close()
	for c := range conns {
		_ = c.Conn.Close()
	}
	return err
}

// maxDial bounds a connect plus TLS handshake to a raft peer.
const maxDial = time.Second

// dropConns closes every open connection but keeps listening: RPCs
// blocked on a peer whose link is cut (reads wait for the transport's
// 10 s deadline) end at once, so raft can shut down.
func (s *tlsStream) dropConns() {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[*streamConn]struct{}{}
	s.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

func (s *tlsStream) track(c *streamConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *tlsStream) untrack(c *streamConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// refuse counts a failed handshake and logs it, at most once per
// refusalLogEvery per remote host.
func (s *tlsStream) refuse(remote, dir string, err error) {
	s.refused.Add(1)
	host, _, splitErr := net.SplitHostPort(remote)
	if splitErr != nil {
		host = remote
	}
	now := time.Now()
	s.mu.Lock()
	last, seen := s.lastLoggd[host]
	shouldLog := !seen || now.Sub(last) >= refusalLogEvery
	if shouldLog {
		if len(s.lastLoggd) > 1024 { // bound the map against address scans
			clear(s.lastLoggd)
		}
		s.lastLoggd[host] = now
	}
	s.mu.Unlock()
	if shouldLog {
		s.log.Warn("raft connection refused: TLS handshake failed; is the peer's certificate from this cluster's CA?",
			"remote", remote, "direction", dir, "error", err)
	}
}

// streamConn is a tracked TLS connection whose handshake is bounded by
// handshakeTimeout.
type streamConn struct {
	*tls.Conn
	s      *tlsStream
	hsOnce sync.Once
	hsErr  error
	closed atomic.Bool
}

func (c *streamConn) handshake() error {
	c.hsOnce.Do(func() {
		_ = c.Conn.SetDeadline(time.Now().Add(handshakeTimeout))
		err := c.Conn.Handshake()
		_ = c.Conn.SetDeadline(time.Time{})
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.s.refuse(c.RemoteAddr().String(), "accept", err)
			}
			c.hsErr = err
		}
	})
	return c.hsErr
}

func (c *streamConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *streamConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *streamConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.s.untrack(c)
	return c.Conn.Close()
}
