// Package pki makes and loads the cluster's certificates: one CA per
// cluster (created by 'pcsctl cluster setup') and, signed by it, one
// certificate per node and per remote admin client. Every connection
// between nodes, and from a remote pcsctl, is mutual TLS 1.3 against that
// CA.
//
// Peers are identified by the CA signature and the certificate's common
// name, never by hostname: nodes are dialled by IP:port, and addresses
// change (DHCP, re-addressing a test bed) while the certificate does not.
//
// The package does no I/O except LoadConfig, which reads three files.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

const (
	// CAValidity is how long a new cluster CA is valid. A cluster outlives
	// many hardware refreshes, and pacer does not rotate the CA yet, so
	// this is long on purpose.
	CAValidity = 10 * 365 * 24 * time.Hour
	// CertValidity is how long an issued certificate is valid, cut to the
	// CA's own expiry: there is no automatic renewal yet, and a node whose
	// certificate expires silently drops out of the cluster.
	CertValidity = 10 * 365 * 24 * time.Hour
	// backdate covers clock skew between the node that issues a
	// certificate and the nodes that check it.
	backdate = time.Hour
)

// NewCA creates the cluster CA: an ECDSA P-256 key and a self-signed
// certificate named "pacer cluster CA <clusterName>", valid from now for
// CAValidity. The CA can sign only leaf certificates (path length 0).
func NewCA(clusterName string, now time.Time) (certPEM, keyPEM []byte, err error) {
	if strings.TrimSpace(clusterName) == "" {
		return nil, nil, errors.New("pki: the cluster name is empty: give the name chosen at 'pcsctl cluster setup'")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pacer cluster CA " + clusterName, Organization: []string{"pacer"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: sign CA certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// Issue signs a certificate for a node or an admin client with the
// cluster CA. commonName is the node name (or e.g. "admin"); hosts become
// subject alternative names, IP addresses or DNS names, and may be empty
// since peers are not checked by name. The certificate is good for both
// server and client authentication, because every node both listens and
// dials with the same one.
func Issue(caCertPEM, caKeyPEM []byte, commonName string, hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	if strings.TrimSpace(commonName) == "" {
		return nil, nil, errors.New("pki: the certificate's common name is empty: use the node name")
	}
	ca, err := parseCert(caCertPEM, "CA certificate")
	if err != nil {
		return nil, nil, err
	}
	if !ca.IsCA {
		return nil, nil, fmt.Errorf("pki: %q is not a CA certificate: pass the cluster CA (ca.pem), not a node certificate", ca.Subject.CommonName)
	}
	caKey, err := parseKey(caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: CA key: %w", err)
	}
	if !publicKeyEqual(caKey.Public(), ca.PublicKey) {
		return nil, nil, fmt.Errorf("pki: the CA key does not belong to CA certificate %q: pass the ca-key.pem made with it", ca.Subject.CommonName)
	}
	var ips []net.IP
	var names []string
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if h == "" || strings.ContainsAny(h, ":/ \t@") {
			return nil, nil, fmt.Errorf("pki: host %q: give an IP address or a DNS name, without a port", h)
		}
		names = append(names, h)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(CertValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"pacer"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  ips,
		DNSNames:     names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: sign certificate for %q: %w", commonName, err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func newSerial() (*big.Int, error) {
	// 128 random bits: serials must be unique per CA, and nothing records
	// which ones were used.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCert returns the first certificate in a PEM bundle.
func parseCert(b []byte, what string) (*x509.Certificate, error) {
	certs, err := parseCerts(b, what)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// parseCerts returns every certificate in a PEM bundle (a CA file may
// hold the old and the new CA during a rotation) and fails when there
// is none.
func parseCerts(b []byte, what string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: %s: %w", what, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pki: %s: no PEM CERTIFICATE block found; is this the right file?", what)
	}
	return out, nil
}

func parseKey(b []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM PRIVATE KEY block found; is this the right file?")
		}
		switch block.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("unsupported key type %T", k)
			}
			return s, nil
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(block.Bytes)
		}
	}
}

func publicKeyEqual(a crypto.PublicKey, b any) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
