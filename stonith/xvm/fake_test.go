package xvm

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// A fake fence_virtd on 127.0.0.1 (unicast UDP + optional tcp listener),
// built from the daemon-side helpers in server.go, with switches for the
// failure modes the real one has.
type fakeConfig struct {
	key       []byte
	minHash   Hash // request hash minimum (default sha256)
	auth      Hash // challenge-response hash (default sha256)
	noAuth    bool // hash = auth = none
	dropFirst int  // ignore the first n valid datagrams (lost packets)
	// rejectResponse: answer the client's challenge, then fail its answer
	// to ours (as a daemon with another key would) and close.
	rejectResponse bool
	rawReply       []byte // written after the handshake instead of a reply
	handler        func(Request) Reply
	ipv6           bool // listen on ::1
}

type fakeDaemon struct {
	cfg     fakeConfig
	udp     *net.UDPConn
	tcp     net.Listener
	mu      sync.Mutex
	reqs    []Request
	dropped []error // requests refused by verification
	hist    History
	wg      sync.WaitGroup
}

func startFake(t *testing.T, cfg fakeConfig) *fakeDaemon {
	t.Helper()
	if cfg.minHash == HashNone && !cfg.noAuth {
		cfg.minHash = HashSHA256
	}
	if cfg.auth == HashNone && !cfg.noAuth {
		cfg.auth = HashSHA256
	}
	if cfg.handler == nil {
		cfg.handler = func(Request) Reply { return Reply{Code: CodeSuccess} }
	}
	ip, tcpAddr := net.IPv4(127, 0, 0, 1), "127.0.0.1:0"
	if cfg.ipv6 {
		ip, tcpAddr = net.IPv6loopback, "[::1]:0"
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Skipf("no loopback for the fake daemon: %v", err)
	}
	tcp, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDaemon{cfg: cfg, udp: udp, tcp: tcp, hist: History{Window: 10 * time.Second}}
	f.wg.Add(2)
	go f.serveUDP()
	go f.serveTCP()
	t.Cleanup(func() {
		udp.Close()
		tcp.Close()
		f.wg.Wait()
	})
	return f
}

func (f *fakeDaemon) serveUDP() {
	defer f.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := f.udp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		if err := VerifyRequest(b, f.cfg.key, f.cfg.minHash); err != nil {
			f.mu.Lock()
			f.dropped = append(f.dropped, err)
			f.mu.Unlock()
			continue
		}
		req, _ := ParseRequest(b)
		f.mu.Lock()
		drop := f.cfg.dropFirst > 0
		if drop {
			f.cfg.dropFirst--
		}
		repeat := f.hist.Seen(req, time.Now())
		if !drop && !repeat {
			f.reqs = append(f.reqs, req)
		}
		f.mu.Unlock()
		if drop || repeat {
			continue
		}
		// One request at a time, as fence_virtd.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		f.callback(ctx, req)
		cancel()
		f.mu.Lock()
		f.hist.Record(req, time.Now())
		f.mu.Unlock()
	}
}

func (f *fakeDaemon) callback(ctx context.Context, req Request) {
	auth := f.cfg.auth
	if !f.cfg.rejectResponse && f.cfg.rawReply == nil {
		ServeCallback(ctx, req, auth, f.cfg.key, func(_ context.Context, r Request) Reply { return f.cfg.handler(r) })
		return
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(req.Addr, req.Port).String())
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if f.cfg.rejectResponse {
		if respond(conn, auth, f.cfg.key) == nil {
			challenge(conn, auth, []byte("another key"))
		}
		return
	}
	if DaemonHandshake(conn, auth, f.cfg.key) == nil {
		conn.Write(f.cfg.rawReply)
	}
}

func (f *fakeDaemon) serveTCP() {
	defer f.wg.Done()
	for {
		conn, err := f.tcp.Accept()
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = ServeConn(ctx, conn, f.cfg.minHash, f.cfg.auth, f.cfg.key, func(_ context.Context, r Request) Reply {
			f.mu.Lock()
			f.reqs = append(f.reqs, r)
			f.mu.Unlock()
			return f.cfg.handler(r)
		})
		if errors.Is(err, ErrBadSignature) || errors.Is(err, ErrWeakHash) {
			f.mu.Lock()
			f.dropped = append(f.dropped, err)
			f.mu.Unlock()
		}
		cancel()
		conn.Close()
	}
}

func (f *fakeDaemon) requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

func (f *fakeDaemon) drops() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.dropped...)
}

// device returns a Device that sends unicast UDP to the fake and takes its
// callback on 127.0.0.1. Unset timing fields get test-friendly values.
func (f *fakeDaemon) device(t *testing.T, cfg Config) *Device {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = f.udp.LocalAddr().String()
		if cfg.Transport == TCP {
			cfg.Addr = f.tcp.Addr().String()
		}
	}
	if !cfg.CallbackAddr.IsValid() && !f.cfg.ipv6 {
		cfg.CallbackAddr = netip.MustParseAddr("127.0.0.1")
	}
	if cfg.Retransmit == 0 {
		cfg.Retransmit = 100 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	d, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
