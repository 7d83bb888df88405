package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// setupHint is appended to errors about missing or broken files: the one
// command that makes them.
const setupHint = "run 'pcsctl cluster setup' (or copy the files from a node of this cluster)"

// Config returns one mutual-TLS configuration that a node uses both to
// listen and to dial (raft, the node API, remote pcsctl):
//
//   - TLS 1.3 only;
//   - it presents certPEM/keyPEM, and requires the peer to present a
//     certificate as well, in both directions;
//   - the peer's certificate must chain to a CA in caPEM and allow both
//     server and client authentication; host names are not checked.
//
// Go's own verification is switched off (InsecureSkipVerify) only because
// it always checks the host name on the client side, and nodes are
// dialled by IP:port that may change. VerifyConnection does the chain
// check instead, on both sides, for every handshake including resumed
// sessions, so no connection completes without it.
//
// Config also checks that certPEM itself was issued by the CA and is
// valid now, so a wrong or expired file fails at startup with a clear
// message rather than as refused connections later.
func Config(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	cas, err := parseCerts(caPEM, "CA certificate")
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	for _, c := range cas {
		roots.AddCert(c)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate and key: %w; the key must be the one issued with the certificate", err)
	}
	verify := verifier(roots)
	if err := verify(tls.ConnectionState{PeerCertificates: chainOf(pair)}); err != nil {
		return nil, fmt.Errorf("pki: this node's own certificate fails the cluster check (%w); issue a new one with the cluster CA", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		// RequireAnyClientCert makes the server demand a certificate;
		// checking it is VerifyConnection's job. ClientCAs is left empty
		// on purpose: with it set, a client holding a certificate from
		// another CA would send none, and the server would log the vaguer
		// "no certificate" instead of naming the foreign certificate.
		ClientAuth:         tls.RequireAnyClientCert,
		InsecureSkipVerify: true,
		VerifyConnection:   verify,
	}, nil
}

// chainOf parses the certificates of a key pair (tls.X509KeyPair fills
// Leaf since Go 1.23, but not for every caller-built pair).
func chainOf(pair tls.Certificate) []*x509.Certificate {
	if pair.Leaf != nil && len(pair.Certificate) == 1 {
		return []*x509.Certificate{pair.Leaf}
	}
	var out []*x509.Certificate
	for _, der := range pair.Certificate {
		if c, err := x509.ParseCertificate(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// verifier checks a peer's certificate chain against roots. The leaf must
// allow server and client authentication both: every pacer certificate
// does, and since one tls.Config serves both directions the check cannot
// know which role the peer has.
func verifier(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("pki: the peer presented no certificate; every node and admin client needs one issued by the cluster CA")
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			_, err := leaf.Verify(x509.VerifyOptions{
				Roots:         roots,
				Intermediates: inter,
				KeyUsages:     []x509.ExtKeyUsage{usage},
				CurrentTime:   time.Now(),
			})
			if err != nil {
				return fmt.Errorf("pki: certificate %q (issuer %q) is not valid for this cluster: %w",
					leaf.Subject.CommonName, leaf.Issuer.CommonName, err)
			}
		}
		return nil
	}
}

// LoadConfig reads the CA certificate, this node's certificate and its
// key from files and returns Config's result. Errors name the file and
// say how to fix it.
func LoadConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	ca, err := readFile(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := readFile(certFile)
	if err != nil {
		return nil, err
	}
	key, err := readFile(keyFile)
	if err != nil {
		return nil, err
	}
	if _, err := parseCerts(ca, caFile); err != nil {
		return nil, fmt.Errorf("%w; %s", err, setupHint)
	}
	if _, err := parseCerts(cert, certFile); err != nil {
		return nil, fmt.Errorf("%w; %s", err, setupHint)
	}
	if _, err := parseKey(key); err != nil {
		return nil, fmt.Errorf("pki: %s: %w; %s", keyFile, err, setupHint)
	}
	cfg, err := Config(ca, cert, key)
	if err != nil {
		return nil, fmt.Errorf("%w (files %s, %s, %s)", err, caFile, certFile, keyFile)
	}
	return cfg, nil
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // drop the "open <path>" prefix: the message names the path itself
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w; %s", path, cause, setupHint)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("read %s: %w; run as root or make the file readable by the pacer daemon's user", path, cause)
	}
	return nil, fmt.Errorf("read %s: %w", path, cause)
}

// PeerName returns the common name of the peer's certificate: the node
// name, or the admin client's name. On a connection made with Config the
// certificate has passed the cluster check, since the handshake fails
// otherwise. It returns "" when the peer sent no certificate (a
// connection not made with Config, or before the handshake).
func PeerName(state tls.ConnectionState) string {
	if len(state.PeerCertificates) == 0 {
		return ""
	}
	return state.PeerCertificates[0].Subject.CommonName
}
