package mon

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pacer/api"
)

// The XML follows crm_mon's schema: it is checked against Pacemaker's own
// crm_mon RNG when Debian's pacemaker packages installed it.
func TestXMLMatchesCrmMonSchema(t *testing.T) {
	var b bytes.Buffer
	if err := WriteXML(&b, trouble(), "pcsctl status --output-as=xml", t0, time.UTC); err != nil {
		t.Fatal(err)
	}
	golden(t, "trouble.xml", b.String())
	rng := "/usr/share/pacemaker/api/crm_mon-" + XMLAPIVersion + ".rng"
	if _, err := os.Stat(rng); err != nil {
		t.Skip("no crm_mon schema here (Debian's pacemaker-cli-utils installs it)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("no xmllint here (Debian's libxml2-utils)")
	}
	// The schema describes what is inside <pacemaker-result>, without
	// the status element that closes it.
	inner := b.String()
	inner = inner[strings.Index(inner, ">")+1 : strings.LastIndex(inner, "<status")]
	doc := filepath.Join(t.TempDir(), "mon.xml")
	os.WriteFile(doc, []byte("<crm_mon>"+inner+"</crm_mon>"), 0o644)
	wrap := filepath.Join(t.TempDir(), "wrap.rng")
	os.WriteFile(wrap, []byte(`<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start><element name="crm_mon"><externalRef href="`+rng+`"/></element></start></grammar>`), 0o644)
	if out, err := exec.Command("xmllint", "--noout", "--relaxng", wrap, doc).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}

func TestXMLShape(t *testing.T) {
	var b bytes.Buffer
	WriteXML(&b, trouble(), "pcsctl status --output-as=xml", t0, time.UTC)
	var x struct {
		APIVersion string `xml:"api-version,attr"`
		DC         struct {
			Name string `xml:"name,attr"`
		} `xml:"summary>current_dc"`
		Options struct {
			NQP string `xml:"no-quorum-policy,attr"`
		} `xml:"summary>cluster_options"`
		Nodes []struct {
			Name    string `xml:"name,attr"`
			Online  bool   `xml:"online,attr"`
			Unclean bool   `xml:"unclean,attr"`
			IsDC    bool   `xml:"is_dc,attr"`
		} `xml:"nodes>node"`
		Groups []struct {
			ID        string `xml:"id,attr"`
			N         int    `xml:"number_resources,attr"`
			Resources []struct {
				ID      string `xml:"id,attr"`
				Blocked bool   `xml:"blocked,attr"`
				Nodes   []struct {
					Name string `xml:"name,attr"`
				} `xml:"node"`
			} `xml:"resource"`
		} `xml:"resources>group"`
		Failures []struct {
			OpKey string `xml:"op_key,attr"`
			Code  int    `xml:"exitcode,attr"`
		} `xml:"failures>failure"`
		Fences []struct {
			Status string `xml:"status,attr"`
			Target string `xml:"target,attr"`
		} `xml:"fence_history>fence_event"`
		Status struct {
			Code    int    `xml:"code,attr"`
			Message string `xml:"message,attr"`
		} `xml:"status"`
	}
	if err := xml.Unmarshal(b.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if x.APIVersion != XMLAPIVersion || x.DC.Name != "node1" || x.Options.NQP != "ignore" || x.Status.Code != 0 || x.Status.Message != "OK" {
		t.Errorf("summary/status: %+v", x)
	}
	if len(x.Nodes) != 3 || x.Nodes[1].Online || !x.Nodes[1].Unclean || !x.Nodes[0].IsDC {
		t.Errorf("nodes: %+v", x.Nodes)
	}
	if len(x.Groups) != 1 || x.Groups[0].ID != "web" || x.Groups[0].N != 2 || !x.Groups[0].Resources[0].Blocked || x.Groups[0].Resources[0].Nodes[0].Name != "node2" {
		t.Errorf("groups: %+v", x.Groups)
	}
	if len(x.Failures) != 2 || x.Failures[0].OpKey != "db_monitor_10000" || x.Failures[0].Code != 7 {
		t.Errorf("failures: %+v", x.Failures)
	}
	if len(x.Fences) != 3 || x.Fences[0].Status != "failed" || x.Fences[0].Target != "node2" {
		t.Errorf("fence history: %+v", x.Fences)
	}
}

// --output-as json is the API's status, with the detail fields at the
// top level: scripts that read 'status --json' keep working.
func TestJSONKeepsTheStatusShape(t *testing.T) {
	b, err := json.Marshal(trouble())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"cluster_name", "dc", "nodes", "resources", "failed_actions", "properties", "quorum_votes", "fence_history"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	var back api.StatusResponse
	if err := json.Unmarshal(b, &back); err != nil || !back.Nodes[1].Unclean || back.Resources[2].FailCount != 2 {
		t.Errorf("round trip: %v %+v", err, back.Nodes[1])
	}
	n := m["nodes"].([]any)[1].(map[string]any)
	if n["unclean"] != true || n["fencing"] != true || n["name"] != "node2" {
		t.Errorf("node detail is not flat: %v", n)
	}
}
