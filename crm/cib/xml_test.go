package cib

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "xml", "ha-pair.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportXMLFixture reads a cibadmin --query document of the textbook
// HA pair and checks every part of the subset landed in the model.
func TestImportXMLFixture(t *testing.T) {
	c, h, err := ImportXML(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.ValidateWith != "pacemaker-3.9" || !h.HaveQuorum || h.DCUUID != "1" || !h.ExecutionDate.Equal(time.Unix(1772366400, 0)) {
		t.Errorf("header %+v", h)
	}
	if c.Version != (Version{AdminEpoch: 1, Epoch: 42, NumUpdates: 17}) {
		t.Errorf("version %v", c.Version)
	}
	cfg := &c.Config
	// The first set that names a property wins.
	if cfg.Properties["cluster-name"] != "hacluster" || cfg.Properties["no-quorum-policy"] != "stop" || cfg.Properties["stonith-enabled"] != "true" {
		t.Errorf("properties %v", cfg.Properties)
	}
	if len(cfg.Nodes) != 2 || cfg.Nodes[1].Name != "server4" || cfg.Nodes[1].ID != "2" || cfg.Nodes[0].Attributes["site"] != "dc-a" {
		t.Errorf("nodes %+v", cfg.Nodes)
	}
	if len(cfg.Resources) != 3 || cfg.Resources[0].Primitive == nil || cfg.Resources[1].Group == nil || cfg.Resources[2].Clone == nil {
		t.Fatalf("resources %+v", cfg.Resources)
	}
	vip := cfg.Primitive("vip")
	if vip.Agent().String() != "ocf:heartbeat:IPaddr2" || vip.Params["ip"] != "172.25.22.100" || len(vip.Ops) != 3 ||
		vip.Ops[2] != (Op{ID: "vip-stop-interval-0s", Name: "stop", Interval: "0s", Timeout: "20s", OnFail: "fence"}) {
		t.Errorf("vip %+v", vip)
	}
	if hp := cfg.Primitive("haproxy"); hp.Agent().String() != "systemd:haproxy" || hp.Meta["migration-threshold"] != "3" {
		t.Errorf("haproxy %+v", hp)
	}
	if g := cfg.Group("hagroup"); g.Meta["resource-stickiness"] != "100" || len(g.Members) != 2 {
		t.Errorf("group %+v", g)
	}
	if cl := cfg.Resources[2].Clone; cl.ID != "ping-clone" || cl.Primitive.ID != "ping" || cl.Meta["interleave"] != "true" {
		t.Errorf("clone %+v", cl)
	}
	cs := cfg.Constraints
	if len(cs.Locations) != 3 || cs.Locations[0].Node != "server1" || cs.Locations[0].Score != "100" {
		t.Errorf("locations %+v", cs.Locations)
	}
	r := cs.Locations[1].Rules[0]
	if r.BooleanOp != "or" || r.Score != "-INFINITY" || len(r.Expressions) != 2 ||
		r.Expressions[1] != (Expression{ID: "location-vip-connected-rule-expr-1", Attribute: "pingd", Operation: "lte", Value: "0", Type: "integer"}) {
		t.Errorf("rule %+v", r)
	}
	if len(cs.Colocations) != 1 || cs.Colocations[0] != (Colocation{ID: "colocation-hagroup-ping-clone-INFINITY", Resource: "hagroup", WithResource: "ping-clone", Score: "INFINITY"}) {
		t.Errorf("colocations %+v", cs.Colocations)
	}
	if len(cs.Orders) != 2 || cs.Orders[0].Kind != "Mandatory" || cs.Orders[0].IsSymmetrical() || cs.Orders[0].FirstAction != "start" {
		t.Errorf("orders %+v", cs.Orders)
	}
	if cs.Orders[1].Kind != "Optional" {
		t.Errorf("a legacy score=0 order should be Optional: %+v", cs.Orders[1])
	}
	if cfg.RscDefaults["resource-stickiness"] != "1" || cfg.OpDefaults["timeout"] != "30s" {
		t.Errorf("defaults %v %v", cfg.RscDefaults, cfg.OpDefaults)
	}
	if len(cfg.FencingLevels) != 2 || cfg.FencingLevels[1].Target != "server4" || cfg.FencingLevels[1].Devices[0] != "vmfence" {
		t.Errorf("fencing levels %+v", cfg.FencingLevels)
	}
	if p := cfg.Validate(); len(p) != 0 {
		t.Errorf("imported configuration does not validate: %v", p)
	}

	s1 := c.Status.Nodes["server1"]
	if s1 == nil || !s1.InCCM || !s1.Crmd || s1.Join != "member" || s1.Expected != "member" {
		t.Fatalf("server1 state %+v", s1)
	}
	if s1.Attributes[FailCountAttr("haproxy", "monitor", 60000)] != "1" || s1.Attributes["pingd"] != "1" {
		t.Errorf("transient attributes %v", s1.Attributes)
	}
	hh := s1.Resources["haproxy"]
	if hh == nil || hh.Class != "systemd" || len(hh.Ops) != 3 {
		t.Fatalf("haproxy history %+v", hh)
	}
	failed := hh.Ops[1]
	if failed.ID != "haproxy_last_failure_0" || failed.Operation != "monitor" || failed.IntervalMS != 60000 || failed.RC != 7 ||
		failed.CallID != 24 || failed.Output != "not running" || !failed.LastRCChange.Equal(time.Unix(1772366100, 0)) || failed.ExpectedRC != nil {
		t.Errorf("failed monitor %+v", failed)
	}
	if st := hh.Ops[0]; st.ExecTimeMS != 2088 || st.Operation != "start" || st.LastRun != (time.Time{}) {
		t.Errorf("start %+v", st)
	}
	// A probe that expected the resource running keeps that expectation.
	probe := c.Status.Nodes["server4"].Resources["haproxy"].Ops[0]
	if probe.ExpectedRC == nil || *probe.ExpectedRC != 0 || probe.Expected() != 0 {
		t.Errorf("probe expected rc: %+v", probe)
	}
	if probe := c.Status.Nodes["server4"].Resources["vip"].Ops[0]; probe.ExpectedRC != nil || probe.Expected() != 7 {
		t.Errorf("ordinary probe: %+v", probe)
	}
}

// scenarioCIBs are the scheduler's scenario inputs, a wide sample of
// configurations and histories.
func scenarioCIBs(t *testing.T) map[string]*CIB {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "scheduler", "testdata", "cib", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scheduler scenarios: %v", err)
	}
	out := map[string]*CIB{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			CIB *CIB `json:"cib"`
		}
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = in.CIB
	}
	return out
}

// TestXMLRoundTrip: import → export → import gives an equal CIB, and
// exporting again gives the same bytes.
func TestXMLRoundTrip(t *testing.T) {
	docs := map[string][]byte{"ha-pair": readFixture(t)}
	for name, c := range scenarioCIBs(t) {
		b, err := ExportXML(c, XMLHeader{HaveQuorum: true, ExecutionDate: time.Unix(1772366400, 0)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = b
	}
	for name, doc := range docs {
		c1, h1, err := ImportXML(doc)
		if err != nil {
			t.Fatalf("%s: first import: %v", name, err)
		}
		out1, err := ExportXML(c1, h1)
		if err != nil {
			t.Fatalf("%s: export: %v", name, err)
		}
		c2, h2, err := ImportXML(out1)
		if err != nil {
			t.Fatalf("%s: import of the export: %v\n%s", name, err, out1)
		}
		if d := cmp.Diff(c1, c2); d != "" {
			t.Errorf("%s: round trip changed the CIB (-first +second):\n%s", name, d)
		}
		if h1 != h2 {
			t.Errorf("%s: header %+v became %+v", name, h1, h2)
		}
		out2, _ := ExportXML(c2, h2)
		if string(out1) != string(out2) {
			t.Errorf("%s: export is not stable", name)
		}
	}
}

// TestImportXMLUnsupported: whatever pacer cannot honour is refused with
// its line and the supported alternatives, never dropped.
func TestImportXMLUnsupported(t *testing.T) {
	const head = "<cib validate-with=\"pacemaker-3.9\" epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\">\n<configuration>\n"
	cases := []struct {
		name, body, want string
	}{
		{"ticket", "<crm_config/><nodes/><resources/>\n<constraints>\n<rsc_ticket id=\"t\" rsc=\"A\" ticket=\"T\"/>\n</constraints>",
			"line 5: <rsc_ticket> is not supported by pacer (supported in <constraints>: rsc_location, rsc_colocation, rsc_order)"},
		{"bundle", "<resources>\n<bundle id=\"b\"/>\n</resources>", "line 4: <bundle> is not supported by pacer"},
		{"acls", "<acls/>", "line 3: <acls> is not supported by pacer"},
		{"utilization", "<nodes>\n<node id=\"1\" uname=\"n1\">\n<utilization id=\"u\"/>\n</node>\n</nodes>",
			"line 5: <utilization> is not supported by pacer (supported in <node>: instance_attributes)"},
		{"score-attribute", "<constraints>\n<rsc_location id=\"l\" rsc=\"A\">\n<rule id=\"r\" score-attribute=\"pingd\">\n<expression id=\"e\" attribute=\"pingd\" operation=\"defined\"/></rule></rsc_location></constraints>",
			"line 5: attribute score-attribute of <rule> is not supported by pacer"},
		{"date rule", "<constraints>\n<rsc_location id=\"l\" rsc=\"A\">\n<rule id=\"r\" score=\"1\">\n<date_expression id=\"d\" operation=\"lt\" end=\"2030-01-01\"/></rule></rsc_location></constraints>",
			"line 6: <date_expression> is not supported by pacer (supported in <rule>: expression)"},
		{"resource set", "<constraints>\n<rsc_order id=\"o\">\n<resource_set id=\"s\"/>\n</rsc_order></constraints>",
			"line 5: <resource_set> is not supported by pacer (<rsc_order> takes no child elements)"},
		{"promotable", "<resources>\n<clone id=\"c\">\n<primitive id=\"p\" class=\"ocf\" provider=\"pacemaker\" type=\"Stateful\"/>\n<meta_attributes id=\"m\"><nvpair id=\"n\" name=\"promotable\" value=\"true\"/></meta_attributes>\n</clone></resources>",
			"line 4: promotable clones are not supported by pacer"},
		{"op child", "<resources>\n<primitive id=\"p\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"><operations>\n<op id=\"o\" name=\"monitor\" interval=\"10s\">\n<instance_attributes id=\"i\"/></op></operations></primitive></resources>",
			"line 6: <instance_attributes> is not supported by pacer (<op> takes no child elements)"},
		{"role", "<constraints>\n<rsc_colocation id=\"c\" rsc=\"A\" with-rsc=\"B\" score=\"INFINITY\" with-rsc-role=\"Promoted\"/></constraints>",
			"line 4: with-rsc-role=\"Promoted\" on <rsc_colocation> is not supported by pacer (supported: Started)"},
		{"nvset rule", "<crm_config>\n<cluster_property_set id=\"s\">\n<rule id=\"r\" score=\"0\"/>\n</cluster_property_set></crm_config>",
			"line 5: rules inside <cluster_property_set>"},
		{"missing id", "<resources>\n<primitive class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/></resources>", "line 4: <primitive> needs a id attribute"},
		{"remote node", "<nodes>\n<node id=\"r1\" uname=\"r1\" type=\"remote\"/></nodes>", "line 4: type=\"remote\" on <node> is not supported by pacer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ImportXML([]byte(head + tc.body + "\n</configuration>\n</cib>\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestImportXMLReportsEveryProblem(t *testing.T) {
	doc := `<cib validate-with="pacemaker-2.10" epoch="x">
  <configuration>
    <tags/>
    <resources>
      <bundle id="b"/>
    </resources>
  </configuration>
</cib>`
	_, _, err := ImportXML([]byte(doc))
	xe, ok := err.(*XMLError)
	if !ok {
		t.Fatalf("want *XMLError, got %T %v", err, err)
	}
	want := []string{"line 1: validate-with=\"pacemaker-2.10\"", "line 1: epoch=\"x\"", "line 3: <tags>", "line 5: <bundle>"}
	if len(xe.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(xe.Problems), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(xe.Problems[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, xe.Problems[i], w)
		}
	}
}

func TestImportXMLNotWellFormed(t *testing.T) {
	_, _, err := ImportXML([]byte("<cib>\n<configuration>\n</cib>"))
	if err == nil || !strings.Contains(err.Error(), "line 3: not well-formed XML") {
		t.Fatalf("got %v", err)
	}
	_, _, err = ImportXML([]byte("<configuration/>"))
	if err == nil || !strings.Contains(err.Error(), "starts with <cib>") {
		t.Fatalf("got %v", err)
	}
}

// Newer Pacemaker writes in_ccm and crmd as timestamps (0: not a member,
// or daemon gone).
func TestImportXMLNodeStateTimestamps(t *testing.T) {
	doc := `<cib validate-with="pacemaker-3.10" epoch="1" num_updates="0" admin_epoch="0"><configuration>
<nodes><node id="1" uname="a"/><node id="2" uname="b"/></nodes></configuration>
<status><node_state id="1" uname="a" in_ccm="1772359200" crmd="1772359201" join="member" expected="member"/>
<node_state id="2" in_ccm="0" crmd="0" join="down" expected="member"/></status></cib>`
	c, _, err := ImportXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Status.Nodes["a"]; !a.InCCM || !a.Crmd {
		t.Errorf("a: %+v", a)
	}
	if b := c.Status.Nodes["b"]; b == nil || b.InCCM || b.Crmd {
		t.Errorf("b (matched by id): %+v", b)
	}
}

// TestOpDigest checks the parameter digest against values Pacemaker
// wrote into its own scheduler regression inputs (cts/scheduler/xml).
func TestOpDigest(t *testing.T) {
	cfg := &Configuration{}
	cases := []struct {
		p        *Primitive
		op       string
		interval int64
		want     string
	}{
		{&Primitive{ID: "A"}, "start", 0, "f2317cad3d54cec5d7d7aa7d0bf35cf8"},
		{&Primitive{ID: "rsc", Params: map[string]string{"ip": "127.0.0.12"}}, "start", 0, "d8eeae5f6724dfcab8f57ef54367eb0a"},
		{&Primitive{ID: "A", Ops: []Op{{Name: "monitor", Interval: "60s"}}}, "monitor", 60000, "4811cef7f7f94e3a35a70be7916cb2fd"},
	}
	for _, tc := range cases {
		if got := opDigest(tc.p, cfg, tc.op, tc.interval); got != tc.want {
			t.Errorf("%s %s_%d: digest %s, want %s", tc.p.ID, tc.op, tc.interval, got, tc.want)
		}
	}
	if got := pcmkEscape("a<b>\"c'&\td\n"); got != `a&lt;b&gt;&quot;c&apos;&amp;    d\n` {
		t.Errorf("escape: %q", got)
	}
}

// TestExportXMLHistoryIDs: records of one resource with the same id
// (possible in hand-made histories) get distinct ids, so Pacemaker reads
// them all in call order, as pacer does.
func TestExportXMLHistoryIDs(t *testing.T) {
	c := New()
	c.Config.Nodes = []Node{{ID: "1", Name: "n1"}}
	c.Status.Nodes["n1"] = &NodeStatus{Name: "n1", InCCM: true, Crmd: true, Join: "member", Expected: "member", Boot: "5e1f",
		Resources: map[string]*ResourceHistory{"A": {ID: "A", Class: "ocf", Provider: "heartbeat", Type: "Dummy", Ops: []OpRecord{
			{ID: "A_monitor_10000", Operation: "monitor", IntervalMS: 10000, CallID: 3},
			{ID: "A_monitor_10000", Operation: "monitor", IntervalMS: 10000, CallID: 4, RC: 7},
		}}}}
	b, err := ExportXML(c, XMLHeader{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="A_monitor_10000" `, `id="A_monitor_10000-4"`, `transition-key="0:0:0:`, `crm_feature_set="3.0.14"`, `pacer-boot="5e1f"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("export lacks %s:\n%s", want, b)
		}
	}
	back, _, err := ImportXML(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status.Nodes["n1"].Boot != "5e1f" {
		t.Errorf("the daemon run of the history (pacer-boot) was lost: %+v", back.Status.Nodes["n1"])
	}
}
