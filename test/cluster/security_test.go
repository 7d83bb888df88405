package cluster_test

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pacer/api"
	"pacer/pcs"
	"pacer/pki"
)

// A node with the wrong cluster key is refused by gossip and says why.
func TestWrongClusterKeyIsRefused(t *testing.T) {
	c, _ := startClusterOf(t, 4, 3)
	intruder := c.Nodes[3]
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(intruder.Dir, "cluster.key"), []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := intruder.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !contains(intruder.Log(), "cluster key") {
		if time.Now().After(deadline) {
			t.Fatalf("intruder's log never names the cluster key:\n%s", lastLines(intruder.Log(), 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // give a wrongly accepted join time to show
	cl := c.Nodes[0].Client()
	defer cl.Close()
	m, err := cl.Members(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, mem := range m.Members {
		if mem.Name == intruder.Name {
			t.Fatalf("node with a wrong key joined gossip: %+v", m.Members)
		}
	}
}

// Remote API: the admin certificate works; a certificate from another
// cluster's CA is refused.
func TestRemoteAPIRequiresClusterCertificate(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	admin := filepath.Join(c.Dir, "admin")
	cfg, err := pki.LoadConfig(filepath.Join(admin, "ca.pem"), filepath.Join(admin, "admin.pem"), filepath.Join(admin, "admin-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	good := api.NewTCP(c.Nodes[0].API, cfg)
	defer good.Close()
	if _, err := good.Status(ctx(t)); err != nil {
		t.Fatalf("admin certificate refused: %v", err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := pcs.Setup(pcs.SetupOptions{Name: "other", Nodes: []pcs.SetupNode{{Name: "x", Host: "127.0.0.1", Gossip: 1, Raft: 2, APIPort: 3}}, Dir: other, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// The outsider accepts any server, so only our side's check can
	// refuse it.
	pair, err := tls.LoadX509KeyPair(filepath.Join(other, "admin", "admin.pem"), filepath.Join(other, "admin", "admin-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	bad := &tls.Config{Certificates: []tls.Certificate{pair}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	outsider := api.NewTCP(c.Nodes[0].API, bad)
	defer outsider.Close()
	if _, err := outsider.Apply(ctx(t), dummy("evil")); err == nil {
		t.Fatal("a certificate from another CA could write")
	}
	// And the pcsctl flow with --node and --tls-dir.
	out, errOut, code := c.Pcsctl(c.Nodes[0], "--node", c.Nodes[2].API, "--tls-dir", admin, "status")
	if code != 0 || !contains(out, "partition with quorum") {
		t.Fatalf("remote pcsctl status: %d %s %s", code, out, errOut)
	}
}

// startClusterOf sets up total nodes but starts only the first n.
func startClusterOf(t *testing.T, total, n int) (*clusterT, string) {
	t.Helper()
	c, err := newCluster(t, total, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range c.Nodes[:n] {
		if err := nd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	return c, waitLeader(t, c.Cluster)
}
