package cib

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzImportXML: ImportXML never panics, and whatever it accepts exports
// to a document it reads back to the same CIB.
func FuzzImportXML(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "xml", "ha-pair.xml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="2" admin_epoch="0" have-quorum="1">
<configuration><crm_config><cluster_property_set id="o"><nvpair id="n" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"><instance_attributes id="a"><nvpair id="s" name="standby" value="on"/></instance_attributes></node></nodes>
<resources><group id="g"><primitive id="A" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="m" name="monitor" interval="10s"/></operations></primitive></group>
<clone id="c"><primitive id="p" class="systemd" type="x"/></clone></resources>
<constraints><rsc_location id="l" rsc="g"><rule id="r" score="5" boolean-op="and"><expression id="e" attribute="#uname" operation="eq" value="n1"/></rule></rsc_location>
<rsc_order id="o1" first="g" then="c" kind="Optional" symmetrical="false"/><rsc_colocation id="c1" rsc="c" with-rsc="g" score="-10"/></constraints>
<fencing-topology><fencing-level id="f" target="n1" index="1" devices="A,B"/></fencing-topology></configuration>
<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member" pacer-unclean="true" pacer-last-fenced="5" pacer-boot="9f3a">
<transient_attributes id="1"><instance_attributes id="t"><nvpair id="f" name="fail-count-A#monitor_10000" value="2"/></instance_attributes></transient_attributes>
<lrm id="1"><lrm_resources><lrm_resource id="A" class="ocf" provider="heartbeat" type="Dummy">
<lrm_rsc_op id="A_last_0" operation="monitor" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="1:2:0:x" last-rc-change="7" exit-reason="a&#10;b"/>
</lrm_resource></lrm_resources></lrm></node_state></status></cib>`))
	f.Add([]byte(`<cib><configuration><resources><bundle id="b"/></resources></configuration></cib>`))
	f.Add([]byte(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/>
<alerts><alert id="notify" path="/usr/local/bin/notify.sh" description="d"><meta_attributes id="m"><nvpair id="t" name="timeout" value="15s"/><nvpair id="f" name="timestamp-format" value="%H:%M:%S.%06N"/></meta_attributes>
<instance_attributes id="i"><nvpair id="o" name="debug" value="1"/></instance_attributes><select><select_nodes/><select_fencing/><select_resources/><select_attributes><attribute id="a" name="standby"/></select_attributes></select>
<recipient id="r" value="/var/log/alerts.log"/></alert></alerts></configuration><status/></cib>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c1, h1, err := ImportXML(data)
		if err != nil {
			return
		}
		out, err := ExportXML(c1, h1)
		if err != nil {
			t.Fatalf("export of an imported CIB failed: %v", err)
		}
		c2, h2, err := ImportXML(out)
		if err != nil {
			t.Fatalf("re-import failed: %v\n%s", err, out)
		}
		if d := cmp.Diff(c1, c2); d != "" {
			t.Fatalf("round trip changed the CIB:\n%s\nexport:\n%s", d, out)
		}
		if h1.HaveQuorum != h2.HaveQuorum || h1.DCUUID != h2.DCUUID || !h1.ExecutionDate.Equal(h2.ExecutionDate) {
			t.Fatalf("header %+v became %+v", h1, h2)
		}
	})
}
