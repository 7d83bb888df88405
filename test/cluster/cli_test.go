package cluster_test

import (
	"encoding/json"
	"strings"
	"testing"

	"pacer/api"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// The pcs-style workflow through the real pcsctl binary.
func TestPcsctlWorkflow(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[1]
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := c.Pcsctl(n, args...)
		if code != 0 {
			t.Fatalf("pcsctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	run("property", "set", "stonith-enabled=false", "no-quorum-policy=freeze")
	// Disabled: the controller would really add the address to this
	// host's network, and tests touch only namespaces they made.
	run("resource", "create", "vip", "IPaddr2", "ip=192.0.2.10", "cidr_netmask=24", "op", "monitor", "interval=10s", "--group", "web", "--disabled")
	// This host runs no systemd as PID 1, so the agent cannot be checked
	// here: --force, as with pcs.
	run("resource", "create", "haproxy", "systemd:haproxy", "op", "monitor", "interval=60s", "--group", "web", "--force", "--disabled")
	if _, errOut, code := c.Pcsctl(n, "resource", "create", "haproxy2", "systemd:haproxy"); code == 0 || !contains(errOut, "--force") {
		t.Errorf("creating an agent this node lacks should fail and mention --force: %d %s", code, errOut)
	}
	if _, errOut, code := c.Pcsctl(n, "resource", "create", "vip2", "IPaddr2", "cidr_netmask=24", "colour=red"); code == 0 || !contains(errOut, "'ip'") || !contains(errOut, "'colour'") {
		t.Errorf("missing required ip / unknown param: %d %s", code, errOut)
	}
	run("resource", "create", "db", "ocf:heartbeat:Dummy", "--disabled")
	run("constraint", "location", "web", "prefers", "node1=100")
	run("constraint", "colocation", "add", "db", "with", "web", "-INFINITY")
	run("constraint", "order", "db", "then", "web", "kind=Optional")
	run("node", "standby", "node2")
	run("node", "attribute", "node3", "rack=r1")

	out := run("status")
	for _, want := range []string{"Cluster name: test", "partition with quorum", "Online: [ node1 node3 ]", "Node standby: [ node2 ]",
		"Resource Group: web:", "vip\t(ocf:heartbeat:IPaddr2):\t Stopped (disabled)", "haproxy\t(systemd:haproxy)", "db\t(ocf:heartbeat:Dummy):\t Stopped (disabled)"} {
		if !contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	var st api.StatusResponse
	if err := json.Unmarshal([]byte(run("status", "--json")), &st); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	if len(st.Resources) != 3 || st.Resources[0].ID != "vip" || st.Resources[0].Group != "web" {
		t.Errorf("status --json resources: %+v", st.Resources)
	}
	if out := run("property", "show"); !contains(out, "no-quorum-policy: freeze") {
		t.Errorf("property show:\n%s", out)
	}
	if out := run("constraint", "show", "--full"); !contains(out, "Resource: web prefers node1 (score:100) (id:location-web-node1-100)") ||
		!contains(out, "db with web (score:-INFINITY)") || !contains(out, "start db then start web (kind:Optional)") {
		t.Errorf("constraint show:\n%s", out)
	}
	if out := run("resource", "config", "vip"); !contains(out, "Attributes: cidr_netmask=24 ip=192.0.2.10") || !contains(out, "monitor: interval=10s") {
		t.Errorf("resource config:\n%s", out)
	}
	var exp api.CIBResponse
	if err := json.Unmarshal([]byte(run("cib", "export", "--json")), &exp); err != nil {
		t.Fatalf("cib export --json: %v", err)
	}
	if exp.CIB.Config.Node("node3").Attributes["rack"] != "r1" {
		t.Errorf("node attribute not in exported CIB")
	}
	run("node", "unstandby", "node2")
	run("resource", "update", "vip", "ip=192.0.2.11")
	run("resource", "group", "remove", "web", "haproxy")
	run("resource", "delete", "haproxy")
	run("constraint", "remove", "location-web-node1-100")
	out = run("status")
	if !contains(out, "Online: [ node1 node2 node3 ]") || contains(out, "haproxy") {
		t.Errorf("after changes, status:\n%s", out)
	}
}

// Bad input: non-zero exit, one message per problem, and the CIB is not
// touched.
func TestPcsctlBadInputChangesNothing(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[0]
	if _, e, code := c.Pcsctl(n, "resource", "create", "a", "ocf:pacemaker:Dummy"); code != 0 {
		t.Fatal(e)
	}
	// The status section moves on by itself (probes, monitors): compare
	// the configuration and its epoch.
	config := func() string {
		out, _, _ := c.Pcsctl(n, "cib", "export", "--json")
		var r api.CIBResponse
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(struct {
			A, E uint64
			C    any
		}{r.CIB.Version.AdminEpoch, r.CIB.Version.Epoch, r.CIB.Config})
		return string(b)
	}
	before := config()
	cases := []struct {
		args  []string
		wants []string
	}{
		{[]string{"resource", "create", "vip", "IPaddr2", "ip=1.2.3.4", "op", "monitor", "interval=10x", "timeout=soon"},
			[]string{"op monitor interval", "op monitor timeout", "10s, 1min, 500ms"}},
		{[]string{"property", "set", "no-quorum-policy=panic", "stonith-enabled=maybe"},
			[]string{"stop, freeze, ignore, suicide", "true or false"}},
		{[]string{"property", "set", "stonith-enable=false"}, []string{`unknown cluster property "stonith-enable"`}},
		{[]string{"resource", "create", "x", "Dummy"}, []string{"matches several agents", "ocf:heartbeat:Dummy", "ocf:pacemaker:Dummy"}},
		{[]string{"resource", "create", "a", "ocf:pacemaker:Dummy"}, []string{`"a"`, "already exists"}},
		{[]string{"resource", "create", "9bad", "ocf:pacemaker:Dummy", "justaword"}, []string{"must start with a letter", `"justaword" is not name=value`}},
		{[]string{"constraint", "location", "ghost", "prefers", "node1"}, []string{`resource "ghost" does not exist`}},
		{[]string{"constraint", "location", "a", "prefers", "node1=lots"}, []string{"not a number"}},
		{[]string{"constraint", "order", "a", "after", "b"}, []string{"expected 'then'"}},
		{[]string{"node", "standby", "nosuchnode"}, []string{`node "nosuchnode" is not in the cluster`}},
		{[]string{"resource", "delete", "nope"}, []string{`resource "nope"`}},
		{[]string{"resource", "meta", "a", "migration-threshold=many"}, []string{"migration-threshold", "integer"}},
	}
	for _, tc := range cases {
		_, errOut, code := c.Pcsctl(n, tc.args...)
		if code == 0 {
			t.Errorf("pcsctl %v: exit 0, want an error", tc.args)
			continue
		}
		for _, w := range tc.wants {
			if !contains(errOut, w) {
				t.Errorf("pcsctl %v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
		if !strings.HasPrefix(errOut, "Error: ") {
			t.Errorf("pcsctl %v: message should start with 'Error: ': %q", tc.args, errOut)
		}
	}
	if after := config(); before != after {
		t.Errorf("bad input changed the CIB:\nbefore %s\nafter %s", before, after)
	}
}
