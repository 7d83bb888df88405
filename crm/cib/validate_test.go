package cib

import (
	"strings"
	"testing"
)

func validConfig() Configuration {
	return Configuration{
		Properties: map[string]string{"stonith-enabled": "false", "no-quorum-policy": "stop"},
		Nodes:      []Node{{ID: "1", Name: "node1"}, {ID: "2", Name: "node2", Attributes: map[string]string{"standby": "on"}}},
		Resources: []Resource{
			{Primitive: &Primitive{ID: "vip", Class: "ocf", Provider: "heartbeat", Type: "IPaddr2", Params: map[string]string{"ip": "192.0.2.10"},
				Ops: []Op{{Name: "monitor", Interval: "10s", Timeout: "20s"}}}},
			{Group: &Group{ID: "web", Members: []*Primitive{{ID: "haproxy", Class: "systemd", Type: "haproxy", Meta: map[string]string{"migration-threshold": "3"}}}}},
			{Clone: &Clone{ID: "ping-clone", Primitive: &Primitive{ID: "ping", Class: "ocf", Provider: "pacemaker", Type: "ping"}}},
			{Primitive: &Primitive{ID: "fence1", Class: "stonith", Type: "fence_xvm"}},
		},
		Constraints: Constraints{
			Locations:   []Location{{ID: "loc1", Resource: "vip", Node: "node1", Score: "100"}, {ID: "loc2", Resource: "web", Rules: []Rule{{ID: "r1", Score: "-INFINITY", Expressions: []Expression{{ID: "e1", Attribute: "#uname", Operation: "eq", Value: "node2"}}}}}},
			Colocations: []Colocation{{ID: "col1", Resource: "web", WithResource: "vip", Score: "INFINITY"}},
			Orders:      []Order{{ID: "ord1", First: "vip", Then: "web"}},
		},
		RscDefaults:   map[string]string{"resource-stickiness": "100"},
		OpDefaults:    map[string]string{"timeout": "30s"},
		FencingLevels: []FencingLevel{{ID: "fl1", Target: "node1", Index: 1, Devices: []string{"fence1"}}},
	}
}

func TestValidateAcceptsValid(t *testing.T) {
	c := validConfig()
	if p := c.Validate(); len(p) != 0 {
		t.Fatalf("valid config refused: %v", p)
	}
}

// Each case breaks one thing; the problem list must name the element,
// the field and say how to fix it.
func TestValidateProblems(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(c *Configuration)
		where  string
		field  string
		needle string
	}{
		{"duplicate id", func(c *Configuration) { c.Resources[0].Primitive.ID = "web" }, "group web", "id", "already used"},
		{"bad id", func(c *Configuration) { c.Resources[0].Primitive.ID = "9vip" }, "resource 9vip", "id", "must start with a letter"},
		{"unknown class", func(c *Configuration) { c.Resources[0].Primitive.Class = "upstart" }, "resource vip", "class", "use one of"},
		{"ocf without provider", func(c *Configuration) { c.Resources[0].Primitive.Provider = "" }, "resource vip", "provider", "need a provider"},
		{"missing type", func(c *Configuration) { c.Resources[0].Primitive.Type = "" }, "resource vip", "type", "missing agent type"},
		{"constraint names missing resource", func(c *Configuration) { c.Constraints.Colocations[0].WithResource = "nope" }, "colocation col1", "with-rsc", "does not exist"},
		{"order names missing resource", func(c *Configuration) { c.Constraints.Orders[0].Then = "ghost" }, "order ord1", "then", "does not exist"},
		{"bad score", func(c *Configuration) { c.Constraints.Locations[0].Score = "lots" }, "location loc1", "score", "INFINITY"},
		{"bad rule score", func(c *Configuration) { c.Constraints.Locations[1].Rules[0].Score = "x" }, "location loc2 rule r1", "score", "INFINITY"},
		{"bad interval", func(c *Configuration) { c.Resources[0].Primitive.Ops[0].Interval = "10x" }, "resource vip", "op monitor interval", "10s, 1min, 500ms"},
		{"bad timeout", func(c *Configuration) { c.Resources[0].Primitive.Ops[0].Timeout = "soon" }, "resource vip", "op monitor timeout", "10s, 1min, 500ms"},
		{"bad on-fail", func(c *Configuration) { c.Resources[0].Primitive.Ops[0].OnFail = "panic" }, "resource vip", "op monitor on-fail", "use one of"},
		{"bad meta value", func(c *Configuration) { c.Resources[1].Group.Members[0].Meta["migration-threshold"] = "many" }, "resource haproxy", "meta migration-threshold", "integer"},
		{"unknown meta", func(c *Configuration) { c.Resources[0].Primitive.Meta = map[string]string{"stikiness": "1"} }, "resource vip", "meta stikiness", "unknown meta"},
		{"unknown property", func(c *Configuration) { c.Properties["stonith-enable"] = "true" }, "property stonith-enable", "", "unknown cluster property"},
		{"bad property value", func(c *Configuration) { c.Properties["no-quorum-policy"] = "panic" }, "property no-quorum-policy", "", "stop, freeze, ignore, suicide"},
		{"bad boolean property", func(c *Configuration) { c.Properties["stonith-enabled"] = "maybe" }, "property stonith-enabled", "", "true or false"},
		{"empty group", func(c *Configuration) { c.Resources[1].Group.Members = nil }, "group web", "members", "at least one member"},
		{"bad rule op", func(c *Configuration) { c.Constraints.Locations[1].Rules[0].Expressions[0].Operation = "like" }, "location loc2 rule r1", "operation", "use one of"},
		{"location without node or rule", func(c *Configuration) { c.Constraints.Locations[0].Node = "" }, "location loc1", "node", "missing node"},
		{"self colocation", func(c *Configuration) { c.Constraints.Colocations[0].WithResource = "web" }, "colocation col1", "with-rsc", "itself"},
		{"bad order kind", func(c *Configuration) { c.Constraints.Orders[0].Kind = "Strict" }, "order ord1", "kind", "Mandatory, Optional or Serialize"},
		{"bad op default", func(c *Configuration) { c.OpDefaults["timeout"] = "long" }, "op_defaults", "timeout", "10s, 1min"},
		{"fencing level device not stonith", func(c *Configuration) { c.FencingLevels[0].Devices = []string{"vip"} }, "fencing-level fl1", "devices", "not a stonith device"},
		{"fencing level index", func(c *Configuration) { c.FencingLevels[0].Index = 10 }, "fencing-level fl1", "index", "1 to 9"},
		{"node standby not boolean", func(c *Configuration) { c.Nodes[1].Attributes["standby"] = "sometimes" }, "node node2", "standby", "on or off"},
		{"duplicate node", func(c *Configuration) { c.Nodes[1].Name = "node1" }, "node node1", "name", "listed twice"},
		{"globally unique clone", func(c *Configuration) { c.Resources[2].Clone.Meta = map[string]string{"globally-unique": "true"} }, "clone ping-clone", "meta globally-unique", "anonymous"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.break_(&c)
			problems := c.Validate()
			for _, p := range problems {
				if p.Where == tc.where && p.Field == tc.field && strings.Contains(p.Message, tc.needle) {
					return
				}
			}
			t.Fatalf("want a problem at %q field %q containing %q; got %v", tc.where, tc.field, tc.needle, problems)
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	c := validConfig()
	c.Resources[0].Primitive.Class = "bogus"
	c.Constraints.Locations[0].Score = "x"
	c.Properties["no-quorum-policy"] = "y"
	if n := len(c.Validate()); n != 3 {
		t.Fatalf("want 3 problems at once, got %d: %v", n, c.Validate())
	}
}

func TestCloneIsDeep(t *testing.T) {
	x := &CIB{Config: validConfig(), Status: Status{Nodes: map[string]*NodeStatus{"node1": {Name: "node1", Attributes: map[string]string{"a": "1"},
		Resources: map[string]*ResourceHistory{"vip": {ID: "vip", Ops: []OpRecord{{ID: "vip_start_0", RC: 0}}}}}}}}
	y := x.Clone()
	y.Config.Resources[0].Primitive.Params["ip"] = "changed"
	y.Config.Resources[1].Group.Members[0].Meta["migration-threshold"] = "9"
	y.Config.Constraints.Locations[1].Rules[0].Expressions[0].Value = "x"
	y.Config.Properties["stonith-enabled"] = "true"
	y.Status.Nodes["node1"].Attributes["a"] = "2"
	y.Status.Nodes["node1"].Resources["vip"].Ops[0].RC = 7
	if x.Config.Resources[0].Primitive.Params["ip"] != "192.0.2.10" || x.Config.Resources[1].Group.Members[0].Meta["migration-threshold"] != "3" ||
		x.Config.Constraints.Locations[1].Rules[0].Expressions[0].Value != "node2" || x.Config.Properties["stonith-enabled"] != "false" ||
		x.Status.Nodes["node1"].Attributes["a"] != "1" || x.Status.Nodes["node1"].Resources["vip"].Ops[0].RC != 0 {
		t.Fatal("changing the clone changed the original")
	}
}
