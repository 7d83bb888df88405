package stonith

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseHostMap(t *testing.T) {
	tests := []struct {
		in   string
		want []HostAlias
	}{
		{"", nil},
		{"server1:server1;server4:server4", []HostAlias{{"server1", "server1"}, {"server4", "server4"}}},
		{"node1=dom1 node2=dom2\tnode3:dom3", []HostAlias{{"node1", "dom1"}, {"node2", "dom2"}, {"node3", "dom3"}}},
		// ',' is not a separator: several ports for one node.
		{"node1:1;node2:2,3", []HostAlias{{"node1", "1"}, {"node2", "2,3"}}},
		// Empty segments and doubled separators are skipped.
		{";;node1:a;; ;node2:b;", []HostAlias{{"node1", "a"}, {"node2", "b"}}},
		// A pair without a name is a parse error and skipped.
		{":x;node1:a", []HostAlias{{"node1", "a"}}},
		// The last assignment char wins: "a:b:c" maps b to c.
		{"a:b:c", []HostAlias{{"b", "c"}}},
		// Escapes: the escaped ';' and ':' stay in the plug, backslashes go.
		{`n1:a\;b;n2:c\:d`, []HostAlias{{"n1", "a;b"}, {"n2", "c:d"}}},
		// Backslashes stay in the node name (Pacemaker does not unescape it).
		{`n\ 1:x`, []HostAlias{{`n\ 1`, "x"}}},
		// A trailing backslash swallows the terminator: last pair dropped.
		{`n1:a;n2:b\`, []HostAlias{{"n1", "a"}}},
		// Name with empty plug is kept (empty plug).
		{"n1:;n2:b", []HostAlias{{"n1", ""}, {"n2", "b"}}},
		// A name with no assignment is ignored.
		{"lonely;n2:b", []HostAlias{{"n2", "b"}}},
	}
	for _, tt := range tests {
		if got := ParseHostMap(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseHostMap(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"node1 node2,node3;node4", []string{"node1", "node2", "node3", "node4"}},
		{"node1\nnode2\\nnode3", []string{"node1", "node2", "node3"}},
		{"  ,; node1 ,,", []string{"node1"}},
		// Entries are cut at the first character outside [A-Za-z0-9_.-].
		{"node1:1 web.example-1_a/x", []string{"node1", "web.example-1_a"}},
		// An entry starting with such a character is dropped.
		{"/bad good", []string{"good"}},
		// on/off are state words, not targets.
		{"node1 on\nnode2 OFF", []string{"node1", "node2"}},
		// Lines with "invalid" or "variable" are agent noise.
		{"node1\nParse error: invalid option\nnode2\nvariable foo", []string{"node1", "node2"}},
		// fence agents' list output "plug,alias".
		{"1,server1\n2,server2\n", []string{"1", "server1", "2", "server2"}},
	}
	for _, tt := range tests {
		if got := ParseTargets(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTargets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTargetingMode(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		caps   Capabilities
		want   HostCheck
	}{
		{"map gives static", map[string]string{ParamHostMap: "a:b"}, Capabilities{List: true, Status: true}, CheckStaticList},
		{"list gives static", map[string]string{ParamHostList: "a"}, Capabilities{List: true}, CheckStaticList},
		{"empty list still static", map[string]string{ParamHostList: ""}, Capabilities{List: true}, CheckStaticList},
		{"list action gives dynamic", nil, Capabilities{List: true, Status: true}, CheckDynamicList},
		{"status only", nil, Capabilities{Status: true}, CheckStatus},
		{"nothing gives none", nil, Capabilities{}, CheckNone},
		{"explicit wins", map[string]string{ParamHostMap: "a:b", ParamHostCheck: "Dynamic-List"}, Capabilities{}, CheckDynamicList},
	}
	for _, tt := range tests {
		tg, err := NewTargeting(tt.params, tt.caps)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tg.Mode != tt.want {
			t.Errorf("%s: mode %q, want %q", tt.name, tg.Mode, tt.want)
		}
	}
	if _, err := NewTargeting(map[string]string{ParamHostCheck: "sometimes"}, Capabilities{}); err == nil {
		t.Error("invalid pcmk_host_check accepted")
	}
}

func TestTargetingCheckAndPlug(t *testing.T) {
	seed, _ := NewTargeting(map[string]string{ParamHostMap: "server1:server1;server4:vm-server4"}, Capabilities{List: true})
	mixed, _ := NewTargeting(map[string]string{ParamHostMap: "n1:dom1", ParamHostList: "n2 n3"}, Capabilities{})
	dyn, _ := NewTargeting(map[string]string{ParamHostMap: "n1:dom1", ParamHostCheck: "dynamic-list"}, Capabilities{})
	stat, _ := NewTargeting(map[string]string{ParamHostCheck: "status"}, Capabilities{})
	none, _ := NewTargeting(map[string]string{ParamHostCheck: "none", ParamHostList: "n1"}, Capabilities{})
	tests := []struct {
		name string
		tg   *Targeting
		node string
		want Eligibility
		plug string
	}{
		{"mapped", seed, "server4", Eligible, "vm-server4"},
		{"mapped, other case", seed, "SERVER4", Eligible, "vm-server4"},
		{"unmapped", seed, "server2", NotEligible, "server2"},
		// Pacemaker quirk: a map plug is itself in the static list.
		{"plug name as node", seed, "vm-server4", Eligible, "vm-server4"},
		{"list entry", mixed, "n3", Eligible, "n3"},
		{"map entry with list", mixed, "n1", Eligible, "dom1"},
		{"neither", mixed, "n4", NotEligible, "n4"},
		{"dynamic asks list", dyn, "n1", NeedList, "dom1"},
		{"status asks status", stat, "n9", NeedStatus, "n9"},
		{"none allows all", none, "anything", Eligible, "anything"},
	}
	for _, tt := range tests {
		if got := tt.tg.Check(tt.node); got != tt.want {
			t.Errorf("%s: Check(%q) = %v, want %v", tt.name, tt.node, got, tt.want)
		}
		if got := tt.tg.Plug(tt.node); got != tt.plug {
			t.Errorf("%s: Plug(%q) = %q, want %q", tt.name, tt.node, got, tt.plug)
		}
	}
	// dynamic-list compares the plug with the device's list, case-insensitively.
	if !dyn.Listed("N1", []string{"other", "DOM1"}) {
		t.Error("dynamic-list: n1 (dom1) not found in list")
	}
	if dyn.Listed("n2", []string{"dom1"}) {
		t.Error("dynamic-list: n2 wrongly found")
	}
	if !StatusSays(PowerOff, nil) || !StatusSays(PowerOn, nil) || StatusSays(PowerUnknown, nil) ||
		StatusSays(PowerOn, errors.New("x")) {
		t.Error("StatusSays wrong")
	}
}

func TestParseAction(t *testing.T) {
	for in, want := range map[string]Action{"off": ActionOff, "poweroff": ActionOff, "on": ActionOn,
		"reboot": ActionReboot, "status": ActionStatus, "list": ActionList, "monitor": ActionMonitor} {
		if got, err := ParseAction(in); err != nil || got != want {
			t.Errorf("ParseAction(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAction("explode"); err == nil {
		t.Error("unknown action accepted")
	}
	if err := CheckFenceAction(ActionStatus); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckFenceAction(status) = %v", err)
	}
}

func FuzzParseHostMap(f *testing.F) {
	for _, s := range []string{"a:b;c=d", `x\:y:z\`, "n1:1,2 n2:3\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range ParseHostMap(s) {
			if a.Node == "" {
				t.Fatalf("empty node name from %q", s)
			}
		}
		for _, e := range ParseTargets(s) {
			if e == "" {
				t.Fatalf("empty target from %q", s)
			}
		}
	})
}
