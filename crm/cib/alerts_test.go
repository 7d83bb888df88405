package cib

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const alertsXML = `<cib validate-with="pacemaker-3.9" admin_epoch="0" epoch="3" num_updates="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources/>
    <constraints/>
    <alerts>
      <alert id="notify" path="/usr/local/bin/notify.sh" description="page the on-call">
        <select>
          <select_nodes/>
          <select_attributes>
            <attribute id="notify-standby" name="standby"/>
          </select_attributes>
        </select>
        <meta_attributes id="notify-meta">
          <nvpair id="notify-meta-timeout" name="timeout" value="15s"/>
        </meta_attributes>
        <instance_attributes id="notify-opts">
          <nvpair id="notify-opts-debug" name="debug" value="false"/>
        </instance_attributes>
        <recipient id="notify-ops" value="ops@example.com">
          <meta_attributes id="notify-ops-meta">
            <nvpair id="notify-ops-meta-ts" name="timestamp-format" value="%D %H:%M"/>
          </meta_attributes>
        </recipient>
      </alert>
    </alerts>
  </configuration>
  <status/>
</cib>`

func TestAlertsXMLRoundTrip(t *testing.T) {
	c, _, err := ImportXML([]byte(alertsXML))
	if err != nil {
		t.Fatal(err)
	}
	want := []Alert{{
		ID: "notify", Path: "/usr/local/bin/notify.sh", Description: "page the on-call",
		Options: map[string]string{"debug": "false"}, Meta: map[string]string{"timeout": "15s"},
		Select:     &AlertSelect{Nodes: true, Attributes: true, AttributeNames: []string{"standby"}},
		Recipients: []AlertRecipient{{ID: "notify-ops", Value: "ops@example.com", Meta: map[string]string{"timestamp-format": "%D %H:%M"}}},
	}}
	if d := cmp.Diff(want, c.Config.Alerts); d != "" {
		t.Fatalf("imported alerts (-want +got):\n%s", d)
	}
	if p := c.Config.Validate(); len(p) != 0 {
		t.Errorf("valid alerts refused: %v", p)
	}
	out, err := ExportXML(c, XMLHeader{})
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := ImportXML(out)
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	if d := cmp.Diff(c.Config.Alerts, back.Config.Alerts); d != "" {
		t.Errorf("round trip (-first +second):\n%s\n%s", d, out)
	}
	cl := c.Clone()
	cl.Config.Alerts[0].Recipients[0].Meta["timestamp-format"] = "x"
	if c.Config.Alerts[0].Recipients[0].Meta["timestamp-format"] == "x" {
		t.Error("Clone shares recipient meta with the original")
	}
}

func TestAlertValidation(t *testing.T) {
	cfg := Configuration{
		Resources: []Resource{{Primitive: &Primitive{ID: "web", Class: "ocf", Provider: "pacemaker", Type: "Dummy"}}},
		Alerts: []Alert{
			{ID: "web", Path: "notify.sh", Meta: map[string]string{"timeout": "soon", "colour": "red"}, Options: map[string]string{"CRM_alert_node": "x", "9lives": "y"}},
			{ID: "ok", Path: "/bin/true", Recipients: []AlertRecipient{{ID: "ok-r"}}, Meta: map[string]string{"enabled": "maybe"}},
		},
	}
	var got []string
	for _, p := range cfg.Validate() {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`alert web: id: id "web" is already used by resource web`,
		`alert web: path: "notify.sh" is not an absolute path`,
		`alert web: meta timeout: "soon" is not a duration`,
		`alert web: meta colour: unknown alert meta attribute`,
		`alert web: option CRM_alert_node: names starting with CRM_alert_`,
		`alert web: option 9lives: options become environment variables`,
		`alert ok: meta enabled: "maybe" is not a boolean`,
		`alert ok recipient ok-r: value: missing value`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing problem %q in:\n%s", want, all)
		}
	}
}

func TestAlertWants(t *testing.T) {
	def := Alert{ID: "a", Path: "/x"}
	if !def.Wants(AlertKindNode, "") || !def.Wants(AlertKindResource, "") || !def.Wants(AlertKindFencing, "") || def.Wants(AlertKindAttribute, "standby") {
		t.Error("an alert without <select> takes node, fencing and resource events, not attributes")
	}
	sel := Alert{ID: "b", Path: "/x", Select: &AlertSelect{Attributes: true, AttributeNames: []string{"standby"}}}
	if !sel.Wants(AlertKindAttribute, "standby") || sel.Wants(AlertKindAttribute, "maintenance") || sel.Wants(AlertKindNode, "") {
		t.Error("select_attributes with names")
	}
	off := Alert{ID: "c", Path: "/x", Meta: map[string]string{"enabled": "false"}}
	if off.Wants(AlertKindNode, "") {
		t.Error("a disabled alert takes nothing")
	}
}
