package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type testCA struct{ cert, key []byte }

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	c, k, err := NewCA(name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return testCA{c, k}
}

// config issues a certificate for cn from ca and returns a Config that
// trusts ca. A peer from another cluster looks exactly like this, with
// its own CA.
func (ca testCA) config(t *testing.T, cn string, now time.Time) *tls.Config {
	t.Helper()
	cert, key, err := Issue(ca.cert, ca.key, cn, []string{"127.0.0.1", "node1.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(ca.cert, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type result struct {
	peer string
	err  error
}

// handshake runs one connection between a server and a client config on
// loopback and returns what each side saw. Both sides write and read one
// byte after the handshake: in TLS 1.3 the client finishes its handshake
// before the server has checked the client certificate, so a refusal of
// the client shows on the client only at its first read.
func handshake(t *testing.T, server, client *tls.Config) (srv, cli result) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(tc, b); err != nil {
			done <- result{err: err}
			return
		}
		_, err = tc.Write(b)
		done <- result{peer: PeerName(tc.ConnectionState()), err: err}
	}()
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), client)
	if err != nil {
		return <-done, result{err: err}
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	b := []byte{42}
	if _, err = c.Write(b); err == nil {
		_, err = io.ReadFull(c, b)
	}
	return <-done, result{peer: PeerName(c.ConnectionState()), err: err}
}

func TestRoundTrip(t *testing.T) {
	ca := newTestCA(t, "alpha")
	now := time.Now()
	srv, cli := handshake(t, ca.config(t, "node1", now), ca.config(t, "node2", now))
	if srv.err != nil || cli.err != nil {
		t.Fatalf("server err %v, client err %v", srv.err, cli.err)
	}
	if srv.peer != "node2" || cli.peer != "node1" {
		t.Fatalf("server saw %q, client saw %q; want node2, node1", srv.peer, cli.peer)
	}
}

func TestCertificateContents(t *testing.T) {
	ca := newTestCA(t, "alpha")
	now := time.Now()
	caCert, err := parseCert(ca.cert, "ca")
	if err != nil {
		t.Fatal(err)
	}
	if caCert.Subject.CommonName != "pacer cluster CA alpha" || !caCert.IsCA || !caCert.MaxPathLenZero {
		t.Fatalf("CA: cn %q isCA %v maxPathLenZero %v", caCert.Subject.CommonName, caCert.IsCA, caCert.MaxPathLenZero)
	}
	if d := caCert.NotAfter.Sub(now); d < CAValidity-time.Minute || d > CAValidity+time.Minute {
		t.Fatalf("CA valid for %v, want %v", d, CAValidity)
	}
	certPEM, _, err := Issue(ca.cert, ca.key, "node1", []string{"10.0.0.1", "::1", "node1.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCert(certPEM, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IPAddresses) != 2 || len(c.DNSNames) != 1 || c.DNSNames[0] != "node1.example" {
		t.Fatalf("SANs: ips %v dns %v", c.IPAddresses, c.DNSNames)
	}
	if c.NotAfter.After(caCert.NotAfter) {
		t.Fatalf("leaf outlives its CA: %v > %v", c.NotAfter, caCert.NotAfter)
	}
	want := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if len(c.ExtKeyUsage) != 2 || c.ExtKeyUsage[0] != want[0] || c.ExtKeyUsage[1] != want[1] {
		t.Fatalf("ext key usage %v", c.ExtKeyUsage)
	}
}

func TestWrongCARefusedAsServer(t *testing.T) {
	ours, theirs := newTestCA(t, "alpha"), newTestCA(t, "beta")
	now := time.Now()
	// The server holds a certificate from another CA and accepts any
	// client, so the only check left is our client's.
	intruder := theirs.config(t, "intruder", now)
	intruder.VerifyConnection = nil
	srv, cli := handshake(t, intruder, ours.config(t, "node1", now))
	if cli.err == nil || !strings.Contains(cli.err.Error(), "not valid for this cluster") {
		t.Fatalf("client error = %v, want a refusal of the server certificate", cli.err)
	}
	if srv.err == nil {
		t.Fatal("server completed a connection with a client that refused it")
	}
}

func TestWrongCARefusedAsClient(t *testing.T) {
	ours, theirs := newTestCA(t, "alpha"), newTestCA(t, "beta")
	now := time.Now()
	// The client holds a certificate from another CA and accepts any
	// server, so the only check left is our server's.
	intruder := theirs.config(t, "intruder", now)
	intruder.VerifyConnection = nil
	srv, cli := handshake(t, ours.config(t, "node1", now), intruder)
	if srv.err == nil || !strings.Contains(srv.err.Error(), `"intruder"`) {
		t.Fatalf("server error = %v, want a refusal naming the intruder's certificate", srv.err)
	}
	if cli.err == nil {
		t.Fatal("client exchanged data with a server that refused it")
	}
}

func TestMissingClientCertRefused(t *testing.T) {
	ca := newTestCA(t, "alpha")
	bare := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	srv, cli := handshake(t, ca.config(t, "node1", time.Now()), bare)
	if srv.err == nil || !strings.Contains(srv.err.Error(), "certificate") {
		t.Fatalf("server error = %v, want a refusal for the missing certificate", srv.err)
	}
	if cli.err == nil {
		t.Fatal("a client without a certificate exchanged data")
	}
}

func TestOldTLSRefused(t *testing.T) {
	ca := newTestCA(t, "alpha")
	client := ca.config(t, "node2", time.Now())
	client.MinVersion, client.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	srv, cli := handshake(t, ca.config(t, "node1", time.Now()), client)
	if srv.err == nil || cli.err == nil {
		t.Fatalf("TLS 1.2 accepted: server err %v, client err %v", srv.err, cli.err)
	}
}

func TestExpiredCertRefused(t *testing.T) {
	ca := newTestCA(t, "alpha")
	good := ca.config(t, "node1", time.Now())
	// Issued eleven years ago, so it expired a year ago; Config refuses to
	// build a configuration from it, so present it by hand.
	old := time.Now().Add(-CertValidity - 365*24*time.Hour)
	certPEM, keyPEM, err := Issue(ca.cert, ca.key, "stale", nil, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Config(ca.cert, certPEM, keyPEM); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Config with an expired certificate: err = %v, want it to say expired", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	stale := good.Clone()
	stale.Certificates = []tls.Certificate{pair}

	srv, cli := handshake(t, good, stale)
	if srv.err == nil || !strings.Contains(srv.err.Error(), "expired") {
		t.Fatalf("expired client: server err = %v, want expired", srv.err)
	}
	if cli.err == nil {
		t.Fatal("expired client exchanged data")
	}
	srv, cli = handshake(t, stale, good)
	if cli.err == nil || !strings.Contains(cli.err.Error(), "expired") {
		t.Fatalf("expired server: client err = %v, want expired", cli.err)
	}
	if srv.err == nil {
		t.Fatal("expired server exchanged data")
	}
}

func TestIssueErrors(t *testing.T) {
	a, b := newTestCA(t, "alpha"), newTestCA(t, "beta")
	now := time.Now()
	leaf, _, err := Issue(a.cert, a.key, "node1", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		caCert, caKey []byte
		cn            string
		hosts         []string
		want          string
	}{
		"key of another CA": {a.cert, b.key, "n", nil, "does not belong"},
		"leaf as CA":        {leaf, a.key, "n", nil, "not a CA"},
		"not PEM":           {[]byte("junk"), a.key, "n", nil, "no PEM CERTIFICATE"},
		"empty name":        {a.cert, a.key, " ", nil, "common name is empty"},
		"host with port":    {a.cert, a.key, "n", []string{"10.0.0.1:7000"}, "without a port"},
		"empty host":        {a.cert, a.key, "n", []string{""}, "IP address or a DNS name"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Issue(tc.caCert, tc.caKey, tc.cn, tc.hosts, now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, _, err := NewCA("", now); err == nil {
		t.Fatal("NewCA with an empty name succeeded")
	}
}

func TestConfigRefusesForeignOwnCert(t *testing.T) {
	a, b := newTestCA(t, "alpha"), newTestCA(t, "beta")
	cert, key, err := Issue(b.cert, b.key, "node1", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Config(a.cert, cert, key); err == nil || !strings.Contains(err.Error(), "own certificate") {
		t.Fatalf("err = %v, want a refusal of our own foreign certificate", err)
	}
	_, otherKey, err := Issue(a.cert, a.key, "node2", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Config(a.cert, cert, otherKey); err == nil {
		t.Fatal("Config accepted a key that does not match the certificate")
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "alpha")
	cert, key, err := Issue(ca.cert, ca.key, "node1", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem")
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(caFile, ca.cert)
	write(certFile, cert)
	write(keyFile, key)
	if _, err := LoadConfig(caFile, certFile, keyFile); err != nil {
		t.Fatal(err)
	}

	missing := filepath.Join(dir, "nope.pem")
	_, err = LoadConfig(missing, certFile, keyFile)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	want := "read " + missing + ": no such file or directory; run 'pcsctl cluster setup'"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %q, want it to start with %q", err, want)
	}

	// A key file that holds a certificate instead.
	_, err = LoadConfig(caFile, certFile, certFile)
	if err == nil || !strings.Contains(err.Error(), certFile) || !strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("err = %v, want it to name %s and the missing key", err, certFile)
	}
	// A CA file with no certificate.
	write(caFile, pem.EncodeToMemory(&pem.Block{Type: "JUNK", Bytes: []byte{1}}))
	_, err = LoadConfig(caFile, certFile, keyFile)
	if err == nil || !strings.Contains(err.Error(), caFile) {
		t.Fatalf("err = %v, want it to name %s", err, caFile)
	}
}

func TestPeerNameEmpty(t *testing.T) {
	if got := PeerName(tls.ConnectionState{}); got != "" {
		t.Fatalf("PeerName of no certificate = %q", got)
	}
}
