package pcs

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"pacer/crm/cib"
	"pacer/daemon"
	"pacer/pki"
)

// Default ports: gossip and Raft next to each other, the API on pcsd's
// port so existing firewall rules for pcs carry over.
const (
	DefaultGossipPort = 7946
	DefaultRaftPort   = 7947
	DefaultAPIPort    = 2224
)

// SetupOptions drive 'pcsctl cluster setup'.
type SetupOptions struct {
	Name  string
	Nodes []SetupNode
	Dir   string // output directory; one subdirectory per node plus admin/ and ca/
	// DataDir and Socket go into every node's config; relative paths are
	// taken relative to that node's directory (used by the local demo).
	DataDir string
	Socket  string
	Now     time.Time
}

// SetupNode is one NODE=ADDR argument.
type SetupNode struct {
	Name                  string
	Host                  string
	Gossip, Raft, APIPort int
	// Witness: a vote-only node (pacerd --witness).
	Witness bool
}

// parseSetupNodes reads NODE=ADDR where ADDR is a host (default ports) or
// host:PORT, meaning gossip on PORT, Raft on PORT+1 and the API on PORT+2
// (several nodes on one host, as the demo runs).
func parseSetupNodes(args []string) ([]SetupNode, []string) {
	var out []SetupNode
	var problems []string
	seen := map[string]bool{}
	for _, a := range args {
		name, addr, ok := strings.Cut(a, "=")
		if !ok || name == "" || addr == "" {
			problems = append(problems, fmt.Sprintf("%q: write NODE=ADDR, e.g. server1=192.0.2.11 or server1=127.0.0.1:7000", a))
			continue
		}
		if msg := cib.CheckID(name); msg != "" {
			problems = append(problems, "node name: "+msg)
			continue
		}
		if seen[name] {
			problems = append(problems, fmt.Sprintf("node %q is given twice", name))
			continue
		}
		seen[name] = true
		n := SetupNode{Name: name, Host: addr, Gossip: DefaultGossipPort, Raft: DefaultRaftPort, APIPort: DefaultAPIPort}
		if h, p, err := net.SplitHostPort(addr); err == nil {
			port, err := strconv.Atoi(p)
			if err != nil || port < 1 || port > 65533 {
				problems = append(problems, fmt.Sprintf("%q: port %q must be a number from 1 to 65533", a, p))
				continue
			}
			n.Host, n.Gossip, n.Raft, n.APIPort = h, port, port+1, port+2
		}
		if net.ParseIP(n.Host) == nil {
			problems = append(problems, fmt.Sprintf("%q: %q is not an IP address; give the node's address (names may resolve differently on each node)", a, n.Host))
			continue
		}
		out = append(out, n)
	}
	return out, problems
}

// Setup makes the cluster key, the CA and one config directory per node.
// It refuses to overwrite an existing directory: a second CA would split
// the cluster.
func Setup(o SetupOptions) error {
	if _, err := os.Stat(o.Dir); err == nil {
		return fmt.Errorf("%s already exists: remove it or choose another --dir (a new setup makes a new CA and key)", o.Dir)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	caCert, caKey, err := pki.NewCA(o.Name, o.Now)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca/ca.pem":     caCert,
		"ca/ca-key.pem": caKey,
		"admin/ca.pem":  caCert,
	}
	adminCert, adminKey, err := pki.Issue(caCert, caKey, "admin", nil, o.Now)
	if err != nil {
		return err
	}
	files["admin/admin.pem"], files["admin/admin-key.pem"] = adminCert, adminKey
	var peers []daemon.Peer
	for _, n := range o.Nodes {
		peers = append(peers, daemon.Peer{
			Name:    n.Name,
			Gossip:  net.JoinHostPort(n.Host, strconv.Itoa(n.Gossip)),
			Raft:    net.JoinHostPort(n.Host, strconv.Itoa(n.Raft)),
			API:     net.JoinHostPort(n.Host, strconv.Itoa(n.APIPort)),
			Witness: n.Witness,
		})
	}
	for i, n := range o.Nodes {
		cert, k, err := pki.Issue(caCert, caKey, n.Name, []string{n.Host}, o.Now)
		if err != nil {
			return err
		}
		p := peers[i]
		cfg := daemon.Config{
			ClusterName: o.Name, NodeName: n.Name, DataDir: o.DataDir, Socket: o.Socket,
			GossipAddr: p.Gossip, RaftAddr: p.Raft, APIAddr: p.API,
			KeyFile: "cluster.key", TLSDir: "tls", Peers: peers, Witness: n.Witness,
		}
		var buf bytes.Buffer
		buf.WriteString("# pacerd configuration for node " + n.Name + " of cluster " + o.Name + ", made by 'pcsctl cluster setup'.\n")
		buf.WriteString("# Install this directory as /etc/pacer on " + n.Name + ". Relative paths are relative to this file.\n")
		if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
			return err
		}
		files[n.Name+"/pacerd.toml"] = buf.Bytes()
		files[n.Name+"/cluster.key"] = []byte(base64.StdEncoding.EncodeToString(key) + "\n")
		files[n.Name+"/tls/ca.pem"] = caCert
		files[n.Name+"/tls/node.pem"] = cert
		files[n.Name+"/tls/node-key.pem"] = k
	}
	for rel, data := range files {
		path := filepath.Join(o.Dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
