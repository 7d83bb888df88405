package libvirt

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func reply(call Frame, status int32, payload []byte) []byte {
	return Frame{Header: Header{Program: remoteProgram, Version: 1, Proc: call.Proc, Type: typeReply,
		Serial: call.Serial, Status: status}, Payload: payload}.Marshal()
}

func errorPayload(code, domain int32, msg string) []byte {
	var e encoder
	e.i32(code)
	e.i32(domain)
	e.optStr(&msg)
	e.i32(2) // level
	e.u32(0) // dom
	e.u32(0) // str1
	e.u32(0)
	e.u32(0)
	e.i32(0)
	e.i32(0)
	e.u32(0) // net
	return e.b
}

// socketPair returns two ends of a loopback TCP connection (unlike
// net.Pipe, it buffers, as libvirtd's socket does).
func socketPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return cli, srv
}

// fakeServer runs fn on the server end of a connection.
func fakeServer(t *testing.T, fn func(srv net.Conn)) *Conn {
	t.Helper()
	cli, srv := socketPair(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer srv.Close()
		fn(srv)
	}()
	c := NewConn(cli)
	t.Cleanup(func() {
		c.nc.Close()
		<-done
	})
	return c
}

func TestKeepaliveAndEvents(t *testing.T) {
	pong := make(chan Frame, 1)
	c := fakeServer(t, func(srv net.Conn) {
		call, err := ReadFrame(srv)
		if err != nil {
			return
		}
		// Before replying: a PING, and an event for another client.
		srv.Write(Frame{Header: Header{Program: keepaliveProgram, Version: 1, Proc: keepalivePing, Type: typeMessage}}.Marshal())
		srv.Write(Frame{Header: Header{Program: remoteProgram, Version: 1, Proc: 318, Type: typeMessage, Serial: 1},
			Payload: []byte{0, 0, 0, 0}}.Marshal())
		p, err := ReadFrame(srv)
		if err != nil {
			return
		}
		pong <- p
		var e encoder
		e.str("test:///default")
		srv.Write(reply(call, statusOK, e.b))
	})
	u, err := c.URI(context.Background())
	if err != nil || u != "test:///default" {
		t.Fatalf("URI = %q, %v", u, err)
	}
	p := <-pong
	want := []byte{0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(p.Marshal(), want) {
		t.Fatalf("pong %x, want %x", p.Marshal(), want)
	}
}

func TestErrorReply(t *testing.T) {
	c := fakeServer(t, func(srv net.Conn) {
		call, _ := ReadFrame(srv)
		srv.Write(reply(call, statusError, errorPayload(42, 17, "Domain not found: no domain with matching name 'nosuch'")))
	})
	_, err := c.LookupByName(context.Background(), "nosuch")
	var le *Error
	if !errors.As(err, &le) || le.Code != ErrCodeNoDomain || !IsCode(err, 42) ||
		!strings.Contains(err.Error(), "no domain with matching name 'nosuch'") || le.Proc != "DOMAIN_LOOKUP_BY_NAME" {
		t.Fatalf("got %v", err)
	}
}

func TestServerClosesMidCall(t *testing.T) {
	c := fakeServer(t, func(srv net.Conn) { ReadFrame(srv) })
	_, err := c.URI(context.Background())
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	// Later calls fail at once.
	if _, err := c.URI(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second call: %v", err)
	}
}

func TestCallTimeout(t *testing.T) {
	c := fakeServer(t, func(srv net.Conn) {
		ReadFrame(srv)
		time.Sleep(300 * time.Millisecond)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.URI(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestOversizedFrame(t *testing.T) {
	c := fakeServer(t, func(srv net.Conn) {
		ReadFrame(srv)
		srv.Write([]byte{0x7f, 0, 0, 0})
	})
	if _, err := c.URI(context.Background()); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("got %v", err)
	}
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		uri  string
		want Target
	}{
		{"lxc+unix:///system?socket=/tmp/x/libvirt-sock", Target{"unix", "/tmp/x/libvirt-sock", "lxc:///system"}},
		{"test+unix:///default?socket=/s", Target{"unix", "/s", "test:///default"}},
		{"qemu:///system", Target{"unix", DefaultSocket, "qemu:///system"}},
		{"test+tcp://127.0.0.1:16509/default", Target{"tcp", "127.0.0.1:16509", "test:///default"}},
		{"lxc+tcp://host1/system", Target{"tcp", "host1:16509", "lxc:///system"}},
		{"qemu+tcp://[::1]:1234/system", Target{"tcp", "[::1]:1234", "qemu:///system"}},
		{"test+unix:///tmp/nodes.xml?socket=/s", Target{"unix", "/s", "test:///tmp/nodes.xml"}},
		{"qemu+unix:///system?name=qemu:///session", Target{"unix", DefaultSocket, "qemu:///session"}},
	}
	for _, tt := range tests {
		got, err := ParseURI(tt.uri)
		if err != nil || got != tt.want {
			t.Errorf("ParseURI(%q) = %+v, %v; want %+v", tt.uri, got, err, tt.want)
		}
	}
	for _, bad := range []string{"qemu+ssh://h/system", "qemu://host/system", "://x", "lxc+tcp:///system"} {
		if _, err := ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
}

func TestUUID(t *testing.T) {
	u, err := ParseUUID("317eb5fe-cdcb-487c-9ced-f523c39e2379")
	if err != nil || u.String() != "317eb5fe-cdcb-487c-9ced-f523c39e2379" {
		t.Fatalf("%v %v", u, err)
	}
	for _, bad := range []string{"node1", "317eb5fe-cdcb-487c-9ced-f523c39e237", "317eb5fecdcb-487c-9ced-f523c39e2379-", "zz7eb5fe-cdcb-487c-9ced-f523c39e2379"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) accepted", bad)
		}
	}
}

// FuzzReadFrame: every frame from libvirtd goes through ReadFrame.
func FuzzReadFrame(f *testing.F) {
	f.Add(Frame{Header: Header{Program: remoteProgram, Version: 1, Proc: 1, Type: 1}}.Marshal())
	f.Add([]byte{0, 0, 0, 28})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ReadFrame(bytes.NewReader(b))
		if err == nil && !bytes.Equal(fr.Marshal(), b[:len(fr.Marshal())]) {
			t.Fatal("frame does not re-encode to its bytes")
		}
	})
}

// FuzzReplies: the payload decoders of every procedure this client uses.
func FuzzReplies(f *testing.F) {
	f.Add(errorPayload(42, 17, "Domain not found"))
	var e encoder
	e.u32(1)
	e.domain(Domain{"node1", UUID{1}, 5})
	e.u32(1)
	f.Add(e.b)
	f.Fuzz(func(t *testing.T, p []byte) {
		decodeError(p, 1)
		d := decoder{b: p}
		d.domain()
		d.optDomain()
		d = decoder{b: p}
		n := d.u32()
		for i := uint32(0); i < n && i < maxDomainList && d.err == nil; i++ {
			d.domain()
		}
		d = decoder{b: p}
		d.str(maxNameLen)
		d.u64()
		// Through a connection, as replies to each call.
		for _, call := range []func(*Conn) error{
			func(c *Conn) error { _, err := c.ListAll(context.Background(), 0); return err },
			func(c *Conn) error { _, err := c.LookupByName(context.Background(), "x"); return err },
			func(c *Conn) error { _, _, err := c.State(context.Background(), Domain{}); return err },
			func(c *Conn) error { _, err := c.AuthList(context.Background()); return err },
		} {
			for _, st := range []int32{statusOK, statusError} {
				cli, srv := net.Pipe()
				go func() {
					defer srv.Close()
					fr, err := ReadFrame(srv)
					if err == nil {
						srv.Write(reply(fr, st, p))
					}
				}()
				c := NewConn(cli)
				call(c)
				cli.Close()
				<-c.done
			}
		}
	})
}

func TestConnectAuth(t *testing.T) {
	for _, tc := range []struct {
		offer   []int32
		wantErr string
		procs   []int32
	}{
		{[]int32{0}, "", []int32{procAuthList, procConnectOpen}},
		{[]int32{2}, "", []int32{procAuthList, procAuthPolkit, procConnectOpen}},
		{[]int32{1}, "SASL", []int32{procAuthList, procConnectClose}},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		seen := make(chan []int32, 1)
		go func() {
			srv, err := ln.Accept()
			ln.Close()
			if err != nil {
				seen <- nil
				return
			}
			defer srv.Close()
			var procs []int32
			for {
				f, err := ReadFrame(srv)
				if err != nil {
					seen <- procs
					return
				}
				procs = append(procs, f.Proc)
				var e encoder
				switch f.Proc {
				case procAuthList:
					e.u32(uint32(len(tc.offer)))
					for _, o := range tc.offer {
						e.i32(o)
					}
				case procAuthPolkit:
					e.i32(1)
				}
				srv.Write(reply(f, statusOK, e.b))
			}
		}()
		c, err := Connect(context.Background(), Target{"tcp", ln.Addr().String(), "test:///default"})
		if tc.wantErr == "" {
			if err != nil {
				t.Fatalf("%v: %v", tc.offer, err)
			}
			c.nc.Close() // no CONNECT_CLOSE: keep the recorded sequence short
			<-c.done
		} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("%v: %v, want %q", tc.offer, err, tc.wantErr)
		}
		if got := <-seen; !slices.Equal(got, tc.procs) {
			t.Fatalf("%v: server saw %v, want %v", tc.offer, got, tc.procs)
		}
	}
}
