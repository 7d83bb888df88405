package pcs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// run calls pcsctl's Main as the binary would and returns stdout,
// stderr and the exit code.
func run(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func testdata(name string) string { return filepath.Join("testdata", name) }

// The --json shape of the issue: format, placement, fencing, actions
// (null for "nowhere", blocked flag), steps.
func TestSimulateJSON(t *testing.T) {
	out, errOut, code := run("simulate", "--cib", testdata("lost-node.xml"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Format    string            `json:"format"`
		Placement map[string]string `json:"placement"`
		Fencing   []string          `json:"fencing"`
		Actions   []map[string]any  `json:"actions"`
		Steps     []string          `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if got.Format != "pcs-simulate/v1" {
		t.Errorf("format %q", got.Format)
	}
	if !reflect.DeepEqual(got.Placement, map[string]string{"A": "node2", "fence": "node1"}) {
		t.Errorf("placement %v", got.Placement)
	}
	if !reflect.DeepEqual(got.Fencing, []string{"node3"}) {
		t.Errorf("fencing %v", got.Fencing)
	}
	if !reflect.DeepEqual(got.Actions, []map[string]any{{"resource": "A", "action": "move", "from": "node3", "to": "node2"}}) {
		t.Errorf("actions %v", got.Actions)
	}
	if !reflect.DeepEqual(got.Steps, []string{"fence:node3", "start:A:node2"}) {
		t.Errorf("steps %v", got.Steps)
	}

	// A stop goes nowhere (null), a start comes from nowhere, and what
	// quorum policy forbids is blocked; empty lists are [], not null.
	out, _, code = run("simulate", "--cib", testdata("no-quorum-stop.xml"), "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{`"fencing": []`, `"resource": "A",
      "action": "stop",
      "from": "node1",
      "to": null`, `"resource": "B",
      "action": "start",
      "from": null,
      "to": "node2",
      "blocked": true`, `"A": "stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate --json lacks %s:\n%s", want, out)
		}
	}
}

// The human output reads like crm_simulate's, with scores on request.
func TestSimulateSummary(t *testing.T) {
	out, errOut, code := run("simulate", "--cib", testdata("lost-node.xml"), "--show-scores")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"quorum, at 2026-03-01 12:00:00Z (execution-date of the file)",
		"node3: UNCLEAN (offline), will be fenced", "Transition Summary:", "* Fence (reboot) node3",
		"* Move A ( node3 -> node2 )", "Executing Cluster Transition:", "* fence:node3", "Revised Cluster Status:",
		"A allocation score on node3: -INFINITY"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate lacks %q:\n%s", want, out)
		}
	}
	if out, _, _ := run("simulate", "--cib", testdata("lost-node.xml")); strings.Contains(out, "allocation score") {
		t.Errorf("scores without --show-scores:\n%s", out)
	}
}

// A JSON input (a scheduler scenario with quorum and time) gives the
// same transition as its XML export.
func TestSimulateJSONInput(t *testing.T) {
	fromXML, _, c1 := run("simulate", "--cib", testdata("lost-node.xml"), "--json")
	fromJSON, errOut, c2 := run("simulate", "--cib", testdata("lost-node.json"), "--json")
	if c1 != 0 || c2 != 0 {
		t.Fatalf("exit %d %d: %s", c1, c2, errOut)
	}
	pick := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"placement": m["placement"], "fencing": m["fencing"], "actions": m["actions"], "steps": m["steps"]}
	}
	if a, b := pick(fromXML), pick(fromJSON); !reflect.DeepEqual(a, b) {
		t.Errorf("XML and JSON inputs differ:\n%v\n%v", a, b)
	}
}

func TestSimulateErrors(t *testing.T) {
	if _, errOut, code := run("simulate"); code == 0 || !strings.Contains(errOut, "pcsctl simulate --cib FILE.xml") {
		t.Errorf("without --cib: exit %d, %q", code, errOut)
	}
	b, err := os.ReadFile(testdata("lost-node.xml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(b), "<constraints/>", "<constraints>\n<rsc_ticket id=\"t\" rsc=\"A\" ticket=\"T\"/>\n<rsc_location id=\"l\" rsc=\"A\" node=\"node1\" score=\"5\" rsc-pattern=\"x\"/>\n</constraints>", 1)
	bad := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(doc[:strings.Index(doc, "<rsc_ticket")], "\n") + 1
	_, errOut, code := run("simulate", "--cib", bad)
	want := []string{bad + ": line " + itoa(line) + ": <rsc_ticket> is not supported by pacer",
		bad + ": line " + itoa(line+1) + ": attribute rsc-pattern of <rsc_location> is not supported by pacer"}
	for _, w := range want {
		if code == 0 || !strings.Contains(errOut, "Error: "+w) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, w, errOut)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestExplainFromFile(t *testing.T) {
	out, errOut, code := run("explain", "A", "--cib", testdata("lost-node.xml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"A runs on node3 and will move from node3 to node2.", "node2: 0 (chosen)",
		"node3: -INFINITY — node3 is unclean and will be fenced (it is no longer part of the cluster)"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	// A group explains each member.
	out, _, code = run("explain", "g", "--cib", testdata("group-recover.xml"))
	if code != 0 || !strings.Contains(out, "b runs on node1, has failed, and will be recovered on node1") ||
		!strings.Contains(out, "c runs on node1 and will be restarted") {
		t.Errorf("explain g: exit %d\n%s", code, out)
	}
	if _, errOut, code := run("explain", "nope", "--cib", testdata("lost-node.xml")); code == 0 || !strings.Contains(errOut, `resource "nope" is not configured`) {
		t.Errorf("unknown resource: exit %d %s", code, errOut)
	}
}

// cib import checks a file completely before sending anything; with
// --dry-run it only says what it would import (no cluster needed).
func TestCIBImportDryRun(t *testing.T) {
	out, errOut, code := run("cib", "import", testdata("lost-node.xml"), "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := "Would import testdata/lost-node.xml: 3 nodes, 2 resources (2 primitives), 0 constraints"; !strings.Contains(out, want) {
		t.Errorf("dry run: %q lacks %q", out, want)
	}
	b, _ := os.ReadFile(testdata("lost-node.xml"))
	bad := filepath.Join(t.TempDir(), "bad.xml")
	doc := strings.Replace(string(b), `name="stonith-enabled" value="true"`, `name="stonith-enabled" value="maybe"`, 1)
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run("cib", "import", bad, "--dry-run"); code == 0 || !strings.Contains(errOut, "stonith-enabled") {
		t.Errorf("invalid configuration: exit %d %s", code, errOut)
	}
	if _, errOut, code := run("cib", "export"); code == 0 || !strings.Contains(errOut, "--json or --xml") {
		t.Errorf("export without format: exit %d %s", code, errOut)
	}
}
