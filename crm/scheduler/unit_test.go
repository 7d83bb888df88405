package scheduler

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pacer/crm/cib"
)

func TestExprMatches(t *testing.T) {
	attrs := map[string]string{"#uname": "node1", "ram": "16", "site": "East", "ver": "1.10", "load": "0.75"}
	tests := []struct {
		attr, op, value, typ string
		want                 bool
	}{
		{"site", "eq", "east", "", true}, // strings compare case-insensitively
		{"site", "ne", "east", "", false},
		{"missing", "ne", "x", "", true}, // undefined is "not equal"
		{"missing", "eq", "x", "", false},
		{"missing", "lt", "5", "", false}, // and never ordered
		{"ram", "gt", "9", "", true},      // integer by default: 16 > 9
		{"ram", "gt", "9", "string", false},
		{"ram", "lt", "16", "", false},
		{"ram", "lte", "16", "", true},
		{"ram", "gte", "17", "integer", false},
		{"load", "lt", "1", "", true}, // a '.' makes it a number
		{"load", "gt", "0.5", "number", true},
		{"ver", "gt", "1.9", "version", true},
		{"ver", "lt", "1.10.1", "version", true},
		{"ver", "eq", "1.10.0", "version", false}, // eq uses the type: versions equal, but...
		{"ram", "defined", "", "", true},
		{"missing", "defined", "", "", false},
		{"missing", "not_defined", "", "", true},
		{"#uname", "eq", "node1", "", true},
	}
	for _, tt := range tests {
		got := exprMatches(cib.Expression{Attribute: tt.attr, Operation: tt.op, Value: tt.value, Type: tt.typ}, attrs)
		if tt.attr == "ver" && tt.op == "eq" {
			tt.want = true // 1.10 == 1.10.0 as versions
		}
		if got != tt.want {
			t.Errorf("%s %s %s (%s) = %v, want %v", tt.attr, tt.op, tt.value, tt.typ, got, tt.want)
		}
	}
	and := cib.Rule{Expressions: []cib.Expression{{Attribute: "ram", Operation: "gt", Value: "8"}, {Attribute: "site", Operation: "eq", Value: "west"}}}
	if ruleMatches(and, false, attrs) || !ruleMatches(and, true, attrs) {
		t.Errorf("and/or combination wrong")
	}
}

func TestNodeStates(t *testing.T) {
	type st struct{ online, unclean, pending bool }
	tests := []struct {
		name    string
		stonith bool
		ns      *cib.NodeStatus
		attrs   map[string]string
		want    st
	}{
		{"member", true, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "member", Expected: "member"}, nil, st{true, false, false}},
		{"never seen", true, nil, nil, st{false, true, false}},
		{"lost", true, &cib.NodeStatus{Join: "down", Expected: "member"}, nil, st{false, true, false}},
		{"left cleanly", true, &cib.NodeStatus{Join: "down", Expected: "down"}, nil, st{false, false, false}},
		{"daemon gone", true, &cib.NodeStatus{InCCM: true, Join: "member", Expected: "member"}, nil, st{true, true, false}},
		{"joining", true, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "pending", Expected: "member"}, nil, st{true, false, true}},
		{"coming up", true, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "down", Expected: "down"}, nil, st{true, false, true}},
		{"banned", true, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "banned", Expected: "member"}, nil, st{true, true, false}},
		{"terminate", true, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "member", Expected: "member"}, map[string]string{"terminate": "true"}, st{true, true, false}},
		{"fenced as asked", true, &cib.NodeStatus{Join: "down", Expected: "member"}, map[string]string{"terminate": "1"}, st{false, false, false}},
		{"marked unclean", true, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "member", Expected: "member", Unclean: true}, nil, st{true, true, false}},
		{"no fencing: lost", false, &cib.NodeStatus{Join: "down", Expected: "member"}, nil, st{false, false, false}},
		{"no fencing: daemon gone", false, &cib.NodeStatus{InCCM: true, Join: "member", Expected: "member"}, nil, st{false, true, false}},
		{"no fencing: member", false, &cib.NodeStatus{InCCM: true, Crmd: true, Join: "member", Expected: "member"}, nil, st{true, false, false}},
	}
	for _, tt := range tests {
		x := cluster("n1")
		x.prop("stonith-enabled", map[bool]string{true: "true", false: "false"}[tt.stonith])
		if tt.ns == nil {
			delete(x.c.Status.Nodes, "n1")
		} else {
			tt.ns.Name, tt.ns.Attributes = "n1", tt.attrs
			x.c.Status.Nodes["n1"] = tt.ns
		}
		tr := x.schedule(t)
		n := tr.Nodes[0]
		if got := (st{n.Online, n.Unclean, n.Pending}); got != tt.want {
			t.Errorf("%s: got %+v, want %+v (%s)", tt.name, got, tt.want, n.Reason)
		}
	}
}

func TestHistoryReplay(t *testing.T) {
	at := t0.Add(-time.Minute)
	type op struct {
		name string
		iv   int64
		rc   int
	}
	tests := []struct {
		name    string
		ops     []op
		active  bool
		failed  bool
		comment string
	}{
		{"probe not running", []op{{"monitor", 0, 7}}, false, false, ""},
		{"probe running", []op{{"monitor", 0, 0}}, true, false, ""},
		{"started", []op{{"monitor", 0, 7}, {"start", 0, 0}}, true, false, ""},
		{"stopped", []op{{"start", 0, 0}, {"stop", 0, 0}}, false, false, ""},
		{"monitor died", []op{{"start", 0, 0}, {"monitor", 10000, 7}}, true, true, "rc 7 on a recurring monitor is a failure"},
		{"monitor error", []op{{"start", 0, 0}, {"monitor", 10000, 1}}, true, true, ""},
		{"recovered", []op{{"start", 0, 0}, {"monitor", 10000, 1}, {"stop", 0, 0}, {"start", 0, 0}}, true, false, ""},
		{"monitor ok again", []op{{"start", 0, 0}, {"monitor", 10000, 1}, {"monitor", 10000, 0}}, true, false, ""},
		{"start failed", []op{{"start", 0, 1}}, true, true, "a failed start leaves it possibly active"},
	}
	for _, tt := range tests {
		x := cluster("n1", "n2").prim("A")
		for _, o := range tt.ops {
			x.rec("n1", "A", o.name, o.iv, o.rc, at)
		}
		tr := x.schedule(t)
		rs := tr.Resources[0]
		if active := len(rs.Current) > 0; active != tt.active || rs.Failed != tt.failed {
			t.Errorf("%s: active=%v failed=%v, want %v %v %s", tt.name, active, rs.Failed, tt.active, tt.failed, tt.comment)
		}
	}
}

func TestFailCountExpiry(t *testing.T) {
	x := cluster("n1", "n2").prim("A", "migration-threshold", "2", "failure-timeout", "60s").running("A", "n1")
	x.failcount("A", "n1", "2", t0.Add(-59*time.Second))
	if tr := x.schedule(t); tr.Placement["A"] != "n2" {
		t.Fatalf("unexpired failure: A on %s, want n2", tr.Placement["A"])
	}
	x.failcount("A", "n1", "2", t0.Add(-61*time.Second))
	if tr := x.schedule(t); tr.Placement["A"] != "n1" {
		t.Fatalf("expired failure: A on %s, want n1", tr.Placement["A"])
	}
}

func TestSimulateJSONShape(t *testing.T) {
	x := cluster("node1", "node2", "node3").fencing().prim("A").prim("B", "target-role", "Stopped").prim("C").
		running("fence", "node2").running("A", "node3").running("B", "node1").lost("node3").noQuorum().
		prop("no-quorum-policy", "ignore")
	tr := x.schedule(t)
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Placement map[string]string `json:"placement"`
		Fencing   []string          `json:"fencing"`
		Actions   []map[string]any  `json:"actions"`
		Steps     []string          `json:"steps"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "node1", "B": "stopped", "C": "node1", "fence": "node2"}
	if d := cmp.Diff(want, got.Placement); d != "" {
		t.Errorf("placement (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"node3"}, got.Fencing); d != "" {
		t.Errorf("fencing: %s", d)
	}
	wantActions := []map[string]any{
		{"resource": "A", "action": "move", "from": "node3", "to": "node1"},
		{"resource": "B", "action": "stop", "from": "node1", "to": nil},
		{"resource": "C", "action": "start", "from": nil, "to": "node1"},
	}
	if d := cmp.Diff(wantActions, got.Actions); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"fence:node3", "stop:B:node1", "start:A:node1", "start:C:node1"}, got.Steps); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	// The whole transition reads back.
	var back Transition
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tr.Actions, back.Actions); d != "" {
		t.Errorf("actions round trip: %s", d)
	}
	if sc, ok := back.Scores.Get("A", "node3"); !ok || sc != cib.MinusInfinity {
		t.Errorf("scores round trip: %v %v", sc, ok)
	}
}

func TestStepText(t *testing.T) {
	for _, s := range []string{"fence:node3", "stop:B:node1", "start:p:2:node1"} {
		var st Step
		if err := st.UnmarshalText([]byte(s)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if st.String() != s {
			t.Errorf("%s round trips to %s", s, st)
		}
	}
	var st Step
	if err := st.UnmarshalText([]byte("start:B")); err == nil {
		t.Errorf("start:B accepted")
	}
}

func TestExplain(t *testing.T) {
	x := cluster("node1", "node2").prim("vip", "migration-threshold", "3").prim("web").running("vip", "node1").
		failcount("vip", "node1", "3", t0.Add(-time.Minute)).coloc("c", "web", "vip", "INFINITY")
	tr := x.schedule(t)
	e, err := tr.Explain("vip")
	if err != nil {
		t.Fatal(err)
	}
	text := e.String()
	for _, want := range []string{"node1 is banned: fail-count 3 ≥ migration-threshold 3", "will move from node1 to node2"} {
		if !strings.Contains(text, want) {
			t.Errorf("explain vip lacks %q:\n%s", want, text)
		}
	}
	e, _ = tr.Explain("web")
	if !strings.Contains(e.String(), "colocated with vip, which runs on node2") {
		t.Errorf("explain web:\n%s", e)
	}
	if _, err := tr.Explain("nope"); !errors.Is(err, ErrUnknownResource) {
		t.Errorf("unknown resource: %v", err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := Schedule(Input{}); !errors.Is(err, ErrNoCIB) {
		t.Errorf("nil CIB: %v", err)
	}
	x := cluster("n1").prim("A").prim("A")
	if _, err := Schedule(x.input()); !errors.Is(err, ErrInvalidCIB) {
		t.Errorf("duplicate id: %v", err)
	}
	x = cluster("n1").prim("A").loc("l", "nope", "n1", "10").coloc("c", "A", "nope", "INFINITY").loc("l2", "A", "n9", "10")
	tr := x.schedule(t)
	if len(tr.Warnings) != 3 {
		t.Errorf("warnings: %q", tr.Warnings)
	}
}
