package mon

import (
	"strings"
	"testing"
	"time"

	"pacer/api"
)

func TestRenderGolden(t *testing.T) {
	cases := []struct {
		name string
		snap Snapshot
		o    Options
	}{
		{"calm.golden", Snapshot{Status: calm(), Events: Seed(calm())}, Options{}},
		{"calm-attrs-inactive-hidden.golden", Snapshot{Status: calm()}, Options{NodeAttrs: true, HideInactive: true}},
		{"trouble.golden", Snapshot{Status: trouble(), Events: Append(Seed(calm()), Diff(calm(), trouble(), ms(250))...)}, Options{}},
		{"trouble-filter-web.golden", Snapshot{Status: trouble()}, Options{Filter: "WEB"}},
		{"trouble-folded.golden", Snapshot{Status: trouble()}, Options{HideNodes: true, HideResources: true, HideFencing: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Loc = time.UTC
			golden(t, c.name, Text(c.snap, c.o))
		})
	}
}

// The lines scripts and the older tests read stay as crm_mon words them.
func TestRenderKeepsCrmMonWords(t *testing.T) {
	out := Text(Snapshot{Status: calm()}, Options{Loc: time.UTC})
	for _, want := range []string{
		"Cluster name: test", "partition with quorum", "Online: [ node1 node2 ]", "Node standby: [ node3 ]",
		"Resource Group: web:", "vip\t(ocf:heartbeat:IPaddr2):\t Started node2", "old\t(ocf:pacemaker:Dummy):\t Stopped (disabled)",
		"Failed Resource Actions:", "db_monitor_10000 on node1 'not running' (7)", "fail-count=2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestBlockerNamesTheFencing(t *testing.T) {
	out := Text(Snapshot{Status: trouble()}, Options{Loc: time.UTC})
	for _, want := range []string{
		"vip cannot start: waiting to fence node2 (device vmfence: timeout, 3 attempts)",
		"!! UNSAFE: no-quorum-policy=ignore",
		"!! UNSAFE: fencing device vmfence fails its monitor on node1",
		"Node node2: UNCLEAN (being fenced)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	// The DC's raw note is said once, by the blocker line.
	if strings.Contains(out, "blocked: stop vip") {
		t.Errorf("the DC note is repeated:\n%s", out)
	}
}

func TestWrapChain(t *testing.T) {
	s := "  * node2 lost 14:02:11.204 → fenced 14:02:11.510 → web started on node1 14:02:11.680"
	got := wrapChain(s, 50)
	if len(got) != 2 || !strings.HasPrefix(got[1], "    → web started") {
		t.Errorf("%q", got)
	}
	for _, l := range got {
		if n := len([]rune(l)); n > 50 {
			t.Errorf("line of %d runes: %q", n, l)
		}
	}
}

// The banners read stonith-enabled as Pacemaker does ("no" is off) and
// do not promise no-quorum-policy where two-node mode keeps resources.
func TestBannersReadBooleansAndTwoNode(t *testing.T) {
	st := &api.StatusResponse{Node: "server1", DC: "server1"}
	st.Properties = map[string]string{"stonith-enabled": "no"}
	if b := banners(st); len(b) != 1 || !strings.Contains(b[0], "fencing is disabled") {
		t.Errorf("stonith-enabled=no: banners %q", b)
	}
	st = &api.StatusResponse{Node: "server1"}
	st.TwoNode = &api.TwoNodeStatus{Peer: "server4", Step: "wait", Reason: "server4 is gone"}
	if b := banners(st); len(b) != 1 || strings.Contains(b[0], "no-quorum-policy") || !strings.Contains(b[0], "two-node mode keeps its resources") {
		t.Errorf("two-node without a DC: banners %q", b)
	}
}
