package pcs

import (
	"reflect"
	"strings"
	"testing"

	"pacer/crm/cib"
)

func TestParseResourceArgs(t *testing.T) {
	ra, problems := parseResourceArgs(strings.Fields("ip=192.0.2.1 cidr_netmask=24 op monitor interval=10s timeout=20s start timeout=40s meta migration-threshold=3"))
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if !reflect.DeepEqual(ra.params, map[string]string{"ip": "192.0.2.1", "cidr_netmask": "24"}) {
		t.Errorf("params %v", ra.params)
	}
	wantOps := []cib.Op{{Name: "monitor", Interval: "10s", Timeout: "20s"}, {Name: "start", Timeout: "40s"}}
	if !reflect.DeepEqual(ra.ops, wantOps) {
		t.Errorf("ops %+v", ra.ops)
	}
	if ra.meta["migration-threshold"] != "3" {
		t.Errorf("meta %v", ra.meta)
	}
}

func TestParseResourceArgsReportsEveryProblem(t *testing.T) {
	_, problems := parseResourceArgs(strings.Fields("ip nic= op interval=1s monitor interval=soon bogus=1 meta target-role=Up colour=red"))
	want := []string{`"ip" is not name=value`, `"interval=1s" after 'op'`, "op monitor interval", "op monitor: unknown option \"bogus\"", "target-role", "meta colour"}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d: %q", len(problems), len(want), problems)
	}
	all := strings.Join(problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q:\n%s", w, all)
		}
	}
}

func TestParseSetupNodes(t *testing.T) {
	nodes, problems := parseSetupNodes([]string{"server1=192.0.2.11", "server2=127.0.0.1:7000"})
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if nodes[0].Gossip != DefaultGossipPort || nodes[0].APIPort != DefaultAPIPort || nodes[1].Gossip != 7000 || nodes[1].Raft != 7001 || nodes[1].APIPort != 7002 {
		t.Errorf("ports: %+v", nodes)
	}
	_, problems = parseSetupNodes([]string{"server1", "a=b", "s3=10.0.0.1:99999", "1x=10.0.0.1", "ok=10.0.0.1", "ok=10.0.0.2"})
	if len(problems) != 5 {
		t.Errorf("want 5 problems, got %q", problems)
	}
}

func TestParseOrder(t *testing.T) {
	o, err := parseOrder(strings.Fields("promote db then start web kind=Optional symmetrical=false"))
	if err != nil {
		t.Fatal(err)
	}
	if o.First != "db" || o.FirstAction != "promote" || o.Then != "web" || o.ThenAction != "start" || o.Kind != "Optional" || o.IsSymmetrical() {
		t.Errorf("%+v", o)
	}
	for _, bad := range []string{"a before b", "a then", "a then b kind=Strict", "a then b colour=red"} {
		if _, err := parseOrder(strings.Fields(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
