package store

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A node whose certificate comes from another CA cannot take part: its
// raft RPCs are refused in both directions, it never learns the CIB, and
// the cluster does not notice beyond counting the refusals.
func TestOutsiderRefused(t *testing.T) {
	c := newCluster(t, 3, slog.LevelInfo, nil)
	ctx := ctxWait(t)
	lead := c.leader()
	term := lead.Stats()["term"]

	servers, err := lead.Servers()
	if err != nil {
		t.Fatal(err)
	}
	// The outsider believes it founded the cluster with the three real
	// nodes, so it sends them votes and, if it won, entries.
	boot := append(servers, Server{ID: "evil", Voter: true})
	other := newTestCA(t, "other")
	out := c.start("evil", Config{Bootstrap: boot, TLS: other.tls(t, "evil")})
	delete(c.stores, "evil") // not a member: c.leader() must not wait for it
	t.Cleanup(func() { out.Close() })

	refused := func() (n uint64) {
		for _, s := range c.stores {
			v, _ := strconv.ParseUint(s.Stats()["refused_conns"], 10, 64)
			n += v
		}
		return n
	}
	eventually(t, "the cluster refuses the outsider's connections", func() bool { return refused() >= 2 })

	// The leader even lists it as a member: replication to it fails too.
	if err := lead.AddNonvoter("evil", out.Addr()); err != nil {
		t.Fatal(err)
	}
	res, err := lead.Apply(ctx, &AddNode{Name: "node1"})
	if err != nil {
		t.Fatalf("cluster write with an outsider around: %v", err)
	}
	eventually(t, "the outsider refuses the leader's connections", func() bool {
		n, _ := strconv.ParseUint(out.Stats()["refused_conns"], 10, 64)
		return n > 0
	})
	for _, s := range c.stores {
		if err := s.WaitIndex(ctx, res.Index); err != nil {
			t.Fatal(err)
		}
	}
	if x, _ := out.Read(); x.Config.Node("node1") != nil || x.Version.Epoch != 0 {
		t.Fatalf("the outsider learned the CIB: %s", x.Version)
	}
	if id, _ := out.Leader(); id != "" && id != "evil" {
		t.Fatalf("the outsider follows %s", id)
	}
	if got := c.leader(); got != lead || lead.Stats()["term"] != term {
		t.Fatalf("the cluster was disturbed: leader %s term %s, was %s term %s", got.ID(), lead.Stats()["term"], lead.ID(), term)
	}
	if err := lead.RemoveServer("evil"); err != nil {
		t.Fatal(err)
	}
}

// dialRaft sends one raft RPC header byte over a fresh TLS connection
// and reports whether the peer answered or cut it.
func dialRaft(t *testing.T, addr string, cfg *tls.Config) error {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: wait}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write([]byte{255}); err != nil { // an unknown rpc type
		return err
	}
	_, err = io.ReadAll(conn)
	return err
}

func TestTransportRefusesWithoutClusterCert(t *testing.T) {
	c := newCluster(t, 1, slog.LevelWarn, nil)
	s := c.leader()
	// No certificate at all.
	bare := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	if err := dialRaft(t, s.Addr(), bare); err == nil {
		t.Fatal("a client without a certificate got through")
	}
	// A certificate from another CA.
	foreign := newTestCA(t, "other").tls(t, "x")
	foreign.VerifyConnection = nil // it would refuse us first otherwise
	if err := dialRaft(t, s.Addr(), foreign); err == nil {
		t.Fatal("a client with a foreign certificate got through")
	}
	eventually(t, "both refusals counted", func() bool { return s.Stats()["refused_conns"] == "2" })
	// The cluster's own certificate is let in (the peer then closes the
	// connection on the unknown rpc type, without a TLS error).
	if err := dialRaft(t, s.Addr(), c.ca.tls(t, "n2")); err != nil {
		t.Fatalf("a cluster member was refused: %v", err)
	}
}

// A node that dials with a foreign certificate fails at Dial, so raft
// reports the RPC failure at once.
func TestStreamDialRefused(t *testing.T) {
	ca, other := newTestCA(t, "a"), newTestCA(t, "b")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newTLSStream(ln, "", other.tls(t, "srv"), slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			conn, err := srv.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.ReadAll(conn); conn.Close() }()
		}
	}()
	cli, err := newTLSStream(mustListen(t), "", ca.tls(t, "cli"), slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Dial(raft.ServerAddress(srv.Addr().String()), wait); err == nil {
		t.Fatal("dial to a foreign server succeeded")
	}
	if cli.refused.Load() != 1 {
		t.Fatalf("refused = %d, want 1", cli.refused.Load())
	}
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Dial(raft.ServerAddress(srv.Addr().String()), wait); err == nil {
		t.Fatal("dial after close succeeded")
	}
}

func mustListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestStreamAdvertise(t *testing.T) {
	cfg := newTestCA(t, "a").tls(t, "n1")
	for _, tc := range []struct {
		bind, adv, want string
		ok              bool
	}{
		{"127.0.0.1:0", "", "", true},
		{"127.0.0.1:0", "192.0.2.7:7000", "192.0.2.7:7000", true},
		{"0.0.0.0:0", "", "", false},
		{"127.0.0.1:0", "192.0.2.7:0", "", false},
		{"127.0.0.1:0", "no-such-host.invalid:7000", "", false},
	} {
		ln, err := net.Listen("tcp", tc.bind)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newTLSStream(ln, tc.adv, cfg, slogDiscard())
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s/%s: %v", tc.bind, tc.adv, err)
		case !tc.ok && err == nil:
			t.Errorf("%s/%s: accepted as %s", tc.bind, tc.adv, s.Addr())
		case tc.ok && tc.want != "" && s.Addr().String() != tc.want:
			t.Errorf("%s/%s: advertised %s", tc.bind, tc.adv, s.Addr())
		case tc.ok && tc.want == "" && s.Addr().String() != ln.Addr().String():
			t.Errorf("%s: advertised %s, want %s", tc.bind, s.Addr(), ln.Addr())
		}
		ln.Close()
	}
}
