package cluster_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pacer/crm/cib"
)

// The Pacemaker migration path on a live cluster: cib export --xml gives
// a document pacer (and crm_verify, where installed) reads back; cib
// import of an edited copy replaces the configuration; explain reads the
// live CIB and quorum.
func TestCIBXMLLive(t *testing.T) {
	c, _ := startCluster(t, 3, "")
	n := c.Nodes[0]
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := c.Pcsctl(n, args...)
		if code != 0 {
			t.Fatalf("pcsctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	run("property", "set", "stonith-enabled=false")
	run("resource", "create", "db", "ocf:heartbeat:Dummy", "--disabled")
	run("constraint", "location", "db", "prefers", "node2=50")

	exported := run("cib", "export", "--xml")
	x, h, err := cib.ImportXML([]byte(exported))
	if err != nil {
		t.Fatalf("cib export --xml does not import: %v\n%s", err, exported)
	}
	if len(x.Config.Nodes) != 3 || x.Config.Primitive("db") == nil || !h.HaveQuorum || h.DCUUID == "" || h.ExecutionDate.IsZero() {
		t.Errorf("export: nodes %v, db %v, header %+v", x.Config.Nodes, x.Config.Primitive("db"), h)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "cib.xml")
	if err := os.WriteFile(file, []byte(exported), 0o644); err != nil {
		t.Fatal(err)
	}
	if bin, err := exec.LookPath("crm_verify"); err == nil {
		if out, err := exec.Command(bin, "-V", "-x", file).CombinedOutput(); err != nil && strings.Contains(string(out), "Errors found") {
			t.Errorf("crm_verify refuses the live export: %v\n%s", err, out)
		}
	}

	// Edit the export as a Pacemaker admin would and import it back.
	x.Config.Resources = append(x.Config.Resources, cib.Resource{Primitive: &cib.Primitive{
		ID: "web", Class: "ocf", Provider: "heartbeat", Type: "Dummy", Meta: map[string]string{"target-role": "Stopped"}}})
	edited, err := cib.ExportXML(x, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run("cib", "import", file); !contains(out, "3 nodes, 2 resources (2 primitives), 1 constraints") {
		t.Errorf("cib import: %s", out)
	}
	if out := run("resource", "config", "web"); !contains(out, "web") {
		t.Errorf("imported resource missing:\n%s", out)
	}

	// A file that drops a node of the cluster is refused without --force.
	x.Config.Nodes = x.Config.Nodes[:2]
	short, _ := cib.ExportXML(x, h)
	if err := os.WriteFile(file, short, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := c.Pcsctl(n, "cib", "import", file); code == 0 || !contains(errOut, "does not list node(s) node3") {
		t.Errorf("import dropping node3: exit %d: %s", code, errOut)
	}

	if out := run("explain", "db"); !contains(out, "db is stopped") || !contains(out, "target-role=Stopped") {
		t.Errorf("explain db:\n%s", out)
	}
}
