package xvm

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"pacer/stonith"
)

var testKey = []byte("0123456789abcdef-test-key-\x00\xff-with-binary")

// domains is a tiny hypervisor for the fake: name -> running.
func hypervisor() func(Request) Reply {
	state := map[string]bool{"node1": true, "node2": false}
	uuids := map[string]string{"9b7f321f-183c-4ee2-8f67-4087e270133a": "node1"}
	return func(r Request) Reply {
		name := r.Domain
		if n, ok := uuids[name]; ok {
			name = n
		}
		on, known := state[name]
		switch r.Op {
		case OpOff:
			if !known {
				return Reply{Code: CodeFail}
			}
			state[name] = false
		case OpOn, OpReboot:
			if !known {
				return Reply{Code: CodeFail}
			}
			state[name] = true
		case OpStatus:
			if !known || !on {
				return Reply{Code: CodeOff}
			}
		case OpList:
			return Reply{Code: CodeSuccess, Hosts: []HostRecord{
				{"node1", "9b7f321f-183c-4ee2-8f67-4087e270133a", 1}, {"node2", "317eb5fe-cdcb-487c-9ced-f523c39e2379", 5}}}
		case OpNull:
			return Reply{Code: CodeFail}
		}
		return Reply{Code: CodeSuccess}
	}
}

func TestDeviceOperations(t *testing.T) {
	for _, tr := range []struct {
		name string
		tr   Transport
	}{{"udp callback", UDP}, {"tcp listener", TCP}} {
		t.Run(tr.name, func(t *testing.T) {
			f := startFake(t, fakeConfig{key: testKey, handler: hypervisor()})
			d := f.device(t, Config{Key: testKey, Transport: tr.tr})
			ctx := context.Background()
			if err := d.Monitor(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := d.Status(ctx, "node1")
			if err != nil || st != stonith.PowerOn {
				t.Fatalf("status node1 = %v, %v", st, err)
			}
			res, err := d.Fence(ctx, "node1", stonith.ActionOff)
			if err != nil || res.State != stonith.PowerOff || res.Duration <= 0 {
				t.Fatalf("off node1 = %+v, %v", res, err)
			}
			if st, _ := d.Status(ctx, "node1"); st != stonith.PowerOff {
				t.Fatalf("status after off = %v", st)
			}
			if _, err := d.Fence(ctx, "node1", stonith.ActionOn); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Fence(ctx, "node1", stonith.ActionReboot); err != nil {
				t.Fatal(err)
			}
			_, err = d.Fence(ctx, "nosuch", stonith.ActionOff)
			if !errors.Is(err, stonith.ErrFailed) || !strings.Contains(err.Error(), `"nosuch"`) {
				t.Fatalf("off nosuch: %v", err)
			}
			if st, err := d.Status(ctx, "nosuch"); err != nil || st != stonith.PowerOff {
				t.Fatalf("status nosuch = %v, %v (fence_virtd says off)", st, err)
			}
			list, err := d.List(ctx)
			if err != nil || len(list) != 2 || list[0].Name != "node1" || list[0].State != stonith.PowerOn ||
				list[1].UUID != "317eb5fe-cdcb-487c-9ced-f523c39e2379" || list[1].State != stonith.PowerOff {
				t.Fatalf("list = %+v, %v", list, err)
			}
			if _, err := d.Fence(ctx, "node1", stonith.ActionStatus); !errors.Is(err, stonith.ErrUnsupported) {
				t.Fatalf("Fence(status) = %v", err)
			}
			// Every request was signed with a fresh seqno and, for UDP,
			// advertised our callback address.
			seen := map[uint32]bool{}
			for _, r := range f.requests() {
				if seen[r.Seqno] {
					t.Errorf("seqno %d reused", r.Seqno)
				}
				seen[r.Seqno] = true
				if tr.tr == UDP && (r.Addr != netip.MustParseAddr("127.0.0.1") || r.Family != 2 || r.Port == 0) {
					t.Errorf("callback fields: %+v", r)
				}
				if tr.tr == TCP && (r.Addr.IsValid() || r.Family != 0 || r.Port != 0) {
					t.Errorf("tcp request carries a callback: %+v", r)
				}
			}
		})
	}
}

func TestUUIDFlag(t *testing.T) {
	f := startFake(t, fakeConfig{key: testKey, handler: hypervisor()})
	d := f.device(t, Config{Key: testKey})
	d.UseUUID = true
	if st, err := d.Status(context.Background(), "9b7f321f-183c-4ee2-8f67-4087e270133a"); err != nil || st != stonith.PowerOn {
		t.Fatalf("status by uuid: %v %v", st, err)
	}
	if _, err := d.Status(context.Background(), "node2"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if reqs[0].Flags != FlagUUID || reqs[1].Flags != 0 {
		t.Fatalf("flags %d %d, want uuid flag only on the UUID", reqs[0].Flags, reqs[1].Flags)
	}
}

func TestHashesAndAuth(t *testing.T) {
	for _, tc := range []struct {
		name             string
		daemonMin, dAuth Hash
		hash, auth       Hash
		wantErr          error
	}{
		{"sha1 both", HashSHA1, HashSHA1, HashSHA1, HashSHA1, nil},
		{"sha512 both", HashSHA512, HashSHA512, HashSHA512, HashSHA512, nil},
		{"stronger request hash accepted", HashSHA256, HashSHA256, HashSHA512, HashSHA256, nil},
		{"weaker request hash dropped", HashSHA256, HashSHA256, HashSHA1, HashSHA256, stonith.ErrNoAnswer},
		{"auth hash mismatch", HashSHA256, HashSHA256, HashSHA256, HashSHA512, stonith.ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, fakeConfig{key: testKey, minHash: tc.daemonMin, auth: tc.dAuth})
			d := f.device(t, Config{Key: testKey, Hash: tc.hash, Auth: tc.auth, Timeout: 500 * time.Millisecond})
			err := d.Monitor(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("monitor: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == stonith.ErrNoAnswer {
				if len(f.drops()) == 0 || !errors.Is(f.drops()[0], ErrWeakHash) {
					t.Fatalf("daemon drops: %v", f.drops())
				}
			}
		})
	}
}

func TestNoAuth(t *testing.T) {
	f := startFake(t, fakeConfig{noAuth: true})
	d := f.device(t, Config{NoAuth: true})
	if err := d.Monitor(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := f.requests()[0]; r.Hash != HashNone || r.Sig != ([64]byte{}) || r.Random != ([6]byte{}) {
		t.Fatalf("unsigned request carries a signature or salt: %+v", r)
	}
}

func TestWrongKey(t *testing.T) {
	f := startFake(t, fakeConfig{key: testKey})
	d := f.device(t, Config{Key: []byte("not the key"), Timeout: 400 * time.Millisecond})
	start := time.Now()
	_, err := d.Fence(context.Background(), "node1", stonith.ActionOff)
	if !errors.Is(err, stonith.ErrNoAnswer) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wrong key: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v, timeout was 400ms", el)
	}
	for _, want := range []string{"did not call back", "key", "off", `"node1"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	drops := f.drops()
	if len(drops) < 2 || !errors.Is(drops[0], ErrBadSignature) {
		t.Fatalf("want the retransmitted requests dropped for their signature, got %v", drops)
	}
	if len(f.requests()) != 0 {
		t.Fatal("a request with the wrong key was served")
	}
}

func TestDaemonRejectsOurResponse(t *testing.T) {
	f := startFake(t, fakeConfig{key: testKey, rejectResponse: true})
	d := f.device(t, Config{Key: testKey})
	err := d.Monitor(context.Background())
	if !errors.Is(err, stonith.ErrAuth) || !strings.Contains(err.Error(), "closed the connection") {
		t.Fatalf("got %v", err)
	}
}

func TestRetransmit(t *testing.T) {
	f := startFake(t, fakeConfig{key: testKey, dropFirst: 2})
	d := f.device(t, Config{Key: testKey, Retransmit: 50 * time.Millisecond})
	if err := d.Monitor(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("daemon served %d requests, want exactly 1 (repeats of a seqno are dropped)", n)
	}
}

func TestResultCodes(t *testing.T) {
	for _, tc := range []struct {
		code byte
		want error
	}{{CodePermission, stonith.ErrPermission}, {CodeFail, stonith.ErrFailed}, {CodeOff, stonith.ErrProtocol}, {77, stonith.ErrProtocol}} {
		f := startFake(t, fakeConfig{key: testKey, handler: func(Request) Reply { return Reply{Code: tc.code} }})
		d := f.device(t, Config{Key: testKey})
		if _, err := d.Fence(context.Background(), "node1", stonith.ActionOff); !errors.Is(err, tc.want) {
			t.Errorf("code %d: %v, want %v", tc.code, err, tc.want)
		}
	}
}

func TestContextCancel(t *testing.T) {
	f := startFake(t, fakeConfig{key: []byte("daemon has another key")})
	d := f.device(t, Config{Key: testKey, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	err := d.Monitor(ctx)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
}

func TestTCPListenerUnreachable(t *testing.T) {
	d, err := NewDevice(Config{Key: testKey, Transport: TCP, Addr: "127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Monitor(context.Background())
	if !errors.Is(err, stonith.ErrNoAnswer) || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("got %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := New(Config{Key: testKey, Addr: "not-an-ip"}); err == nil {
		t.Error("bad address accepted")
	}
	if _, err := New(Config{Key: testKey, Addr: "ff05::3:1", CallbackAddr: netip.MustParseAddr("127.0.0.1")}); err == nil {
		t.Error("mixed families accepted")
	}
	c, err := New(Config{Key: make([]byte, 5000)})
	if err != nil || len(c.cfg.Key) != MaxKeySize || c.dest.String() != "225.0.0.12:1229" || c.cfg.Hash != HashSHA256 {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

// IPv6 unicast, with the callback address picked from the route (no
// CallbackAddr): family 10, 16-byte address.
func TestIPv6Unicast(t *testing.T) {
	f := startFake(t, fakeConfig{key: testKey, ipv6: true, handler: hypervisor()})
	d := f.device(t, Config{Key: testKey})
	if st, err := d.Status(context.Background(), "node1"); err != nil || st != stonith.PowerOn {
		t.Fatalf("status over IPv6: %v, %v", st, err)
	}
	r := f.requests()[0]
	if r.Family != 10 || r.AddrLen != 16 || r.Addr != netip.IPv6Loopback() {
		t.Fatalf("request %+v", r)
	}
}
