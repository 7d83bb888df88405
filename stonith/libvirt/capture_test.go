package libvirt

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"pacer/stonith/internal/pcap"
)

// testdata/rpc.pcap is shared/fencing/captures/rpc.pcap: virsh and the
// Python probe against Debian 12's libvirtd 9.0.0 over TCP 16509, eight
// sessions. Each test below replays one session: a fake server reads every
// frame our client writes, requires it to be byte-identical to the frame
// the real client sent, and answers with the real libvirtd's reply.

type session struct {
	toServer, toClient [][]byte // whole frames, length word included
}

func splitFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= 4 {
		n := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		if n < 28 || n > len(b) {
			t.Fatalf("bad frame length %d", n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func capturedSessions(t *testing.T) []session {
	t.Helper()
	pkts, err := pcap.Read("testdata/rpc.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out []session
	for _, s := range pcap.Streams(pkts) {
		toServer, toClient := s.AtoB, s.BtoA
		if s.A.Port() == 16509 {
			toServer, toClient = s.BtoA, s.AtoB
		}
		out = append(out, session{splitFrames(t, toServer), splitFrames(t, toClient)})
	}
	return out
}

// replayServer answers our client with the captured replies, checking
// each frame we send against the captured one. Replies are matched by
// serial, as the client matches them.
func replayServer(t *testing.T, s session) (*Conn, chan error) {
	cli, srv := net.Pipe()
	c := NewConn(cli)
	done := make(chan error, 1)
	replies := map[uint32][]byte{}
	for _, r := range s.toClient {
		f, _ := ParseFrame(r[4:])
		replies[f.Serial] = r
	}
	go func() {
		defer srv.Close()
		for i, want := range s.toServer {
			got, err := ReadFrame(srv)
			if err != nil {
				done <- fmt.Errorf("frame %d: %w", i, err)
				return
			}
			gb := got.Marshal()
			if !bytes.Equal(gb, want) {
				done <- fmt.Errorf("frame %d (%s serial %d) differs:\n got %x\nwant %x", i, procName(got.Proc), got.Serial, gb, want)
				return
			}
			if _, err := srv.Write(replies[got.Serial]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return c, done
}

func TestCapturedSessions(t *testing.T) {
	sessions := capturedSessions(t)
	if len(sessions) != 8 {
		t.Fatalf("%d sessions, want 8", len(sessions))
	}
	node2 := func(id int32) Domain {
		u, _ := ParseUUID("317eb5fe-cdcb-487c-9ced-f523c39e2379")
		return Domain{"node2", u, id}
	}
	raw := func(proc int32, args ...uint32) func(context.Context, *Conn) error {
		return func(ctx context.Context, c *Conn) error {
			var e encoder
			for _, a := range args {
				e.u32(a)
			}
			_, err := c.call(ctx, proc, e.b)
			return err
		}
	}
	feature := func(f int32) func(context.Context, *Conn) error {
		return func(ctx context.Context, c *Conn) error {
			ok, err := c.SupportsFeature(ctx, f)
			if err == nil && !ok {
				err = fmt.Errorf("feature %d unsupported", f)
			}
			return err
		}
	}
	authList := func(ctx context.Context, c *Conn) error {
		a, err := c.AuthList(ctx)
		if err == nil && (len(a) != 1 || a[0] != 0) {
			err = fmt.Errorf("auth list %v", a)
		}
		return err
	}
	open := func(ctx context.Context, c *Conn) error { return c.Open(ctx, "lxc:///system") }
	uri := func(ctx context.Context, c *Conn) error {
		u, err := c.URI(ctx)
		if err == nil && u != "lxc:///system" {
			err = fmt.Errorf("uri %q", u)
		}
		return err
	}
	lookup := func(wantID int32) func(context.Context, *Conn) error {
		return func(ctx context.Context, c *Conn) error {
			d, err := c.LookupByName(ctx, "node2")
			if err == nil && d != node2(wantID) {
				err = fmt.Errorf("lookup: %+v", d)
			}
			return err
		}
	}
	state := func(id int32, want DomainState, reason int32) func(context.Context, *Conn) error {
		return func(ctx context.Context, c *Conn) error {
			st, r, err := c.State(ctx, node2(id))
			if err == nil && (st != want || r != reason) {
				err = fmt.Errorf("state %v/%d", st, r)
			}
			return err
		}
	}
	virshPrologue := []func(context.Context, *Conn) error{authList, feature(10), open, feature(14), feature(15), raw(360)}
	virshEpilogue := []func(context.Context, *Conn) error{raw(361), func(ctx context.Context, c *Conn) error { return c.Close() }}
	script := func(steps ...func(context.Context, *Conn) error) []func(context.Context, *Conn) error {
		return steps
	}
	virsh := func(steps ...func(context.Context, *Conn) error) []func(context.Context, *Conn) error {
		out := append(append([]func(context.Context, *Conn) error{}, virshPrologue...), steps...)
		return append(out, virshEpilogue...)
	}
	closeConn := func(ctx context.Context, c *Conn) error { return c.Close() }
	scripts := [][]func(context.Context, *Conn) error{
		// virsh list --all: LIST_ALL_DOMAINS(1, 3) then a state per domain
		virsh(func(ctx context.Context, c *Conn) error {
			doms, err := c.ListAll(ctx, ListActive|ListInactive)
			if err != nil {
				return err
			}
			if len(doms) != 3 || doms[0].Name != "node1" || doms[1].Name != "node2" || doms[2].Name != "node3" {
				return fmt.Errorf("list: %+v", doms)
			}
			for _, i := range []int{1, 0, 2} {
				if _, _, err := c.State(ctx, doms[i]); err != nil {
					return err
				}
			}
			return nil
		}),
		virsh(lookup(0x2093), state(0x2093, StateRunning, 1)), // domstate
		virsh(lookup(0x2093), func(ctx context.Context, c *Conn) error { // destroy
			return c.Destroy(ctx, node2(0x2093))
		}),
		virsh(lookup(-1), func(ctx context.Context, c *Conn) error { // start
			if err := c.Create(ctx, node2(-1)); err != nil {
				return err
			}
			d, err := c.LookupByUUID(ctx, node2(0).UUID)
			if err == nil && d.ID != 0x2431 {
				err = fmt.Errorf("id %d", d.ID)
			}
			return err
		}),
		virsh(lookup(0x2431), func(ctx context.Context, c *Conn) error { // reset: an error reply
			var e encoder
			e.domain(node2(0x2431))
			e.u32(0)
			_, err := c.call(ctx, 245, e.b)
			if !IsCode(err, ErrCodeNoSupport) || err.(*Error).Message != "this function is not supported by the connection driver: virDomainReset" {
				return fmt.Errorf("reset: %v", err)
			}
			return nil
		}),
		// the probe: list with states
		script(authList, open, uri, func(ctx context.Context, c *Conn) error {
			doms, err := c.ListAll(ctx, 0)
			if err != nil {
				return err
			}
			for _, d := range doms {
				if st, _, err := c.State(ctx, d); err != nil || st != StateRunning {
					return fmt.Errorf("%s: %v %v", d.Name, st, err)
				}
			}
			return nil
		}, closeConn),
		// the probe: destroy, then shut off (reason 2 = destroyed)
		script(open, uri, lookup(0x2431), func(ctx context.Context, c *Conn) error {
			return c.Destroy(ctx, node2(0x2431))
		}, lookup(-1), state(-1, StateShutoff, ReasonShutoffDestroyed), closeConn),
		// the probe: start with DOMAIN_CREATE_WITH_FLAGS
		script(authList, open, uri, lookup(-1), func(ctx context.Context, c *Conn) error {
			var e encoder
			e.domain(node2(-1))
			e.u32(0)
			_, err := c.call(ctx, 196, e.b)
			return err
		}, lookup(0x254c), state(0x254c, StateRunning, 1), closeConn),
	}
	for i, s := range sessions {
		t.Run(fmt.Sprint("session", i), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, done := replayServer(t, s)
			defer c.Close()
			for j, step := range scripts[i] {
				if err := step(ctx, c); err != nil {
					t.Fatalf("step %d: %v", j, err)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
