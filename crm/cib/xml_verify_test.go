package cib

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crmVerify runs Pacemaker's crm_verify -x on doc and returns its exit
// code and output.
func crmVerify(t *testing.T, bin string, doc []byte) (int, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-V", "-x", f).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestExportXMLCRMVerify: Pacemaker's own checker accepts what ExportXML
// writes. The configuration alone must pass clean; with the status
// section, only warnings about the cluster's state (a node to fence) are
// allowed, never errors or schema failures.
func TestExportXMLCRMVerify(t *testing.T) {
	bin, err := exec.LookPath("crm_verify")
	if err != nil {
		t.Skip("crm_verify not installed (Debian: apt-get install pacemaker-cli-utils)")
	}
	c, h, err := ImportXML(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]*CIB{"ha-pair": c}
	for _, name := range []string{"lost-node-fenced", "group-stickiness-sum-moves", "clone-of-group", "rule-gte-lte-and",
		"order-asymmetric", "failed-monitor-recover-in-place", "anti-colocation"} {
		docs[name] = scenarioCIBs(t)[name]
	}
	for name, c := range docs {
		cfgOnly, err := ExportConfigXML(c, h)
		if err != nil {
			t.Fatal(err)
		}
		if rc, out := crmVerify(t, bin, cfgOnly); rc != 0 {
			t.Errorf("%s: crm_verify refused the exported configuration (exit %d):\n%s", name, rc, out)
		}
		full, err := ExportXML(c, XMLHeader{HaveQuorum: true, ExecutionDate: time.Unix(1772366400, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if rc, out := crmVerify(t, bin, full); rc != 0 && (strings.Contains(out, "Errors found") || strings.Contains(out, "schema")) {
			t.Errorf("%s: crm_verify found errors in the exported CIB (exit %d):\n%s", name, rc, out)
		}
	}
}
