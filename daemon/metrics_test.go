package daemon

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pacer/crm/cib"
	"pacer/membership"
	"pacer/resources"
)

// cibOnly renders collectCIB alone, so its output can be read without a
// daemon.
type cibOnly struct {
	c       *cib.CIB
	leader  string
	members []membership.Member
}

func (cibOnly) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(cibOnly{c: cib.New()}, ch)
}
func (o cibOnly) Collect(ch chan<- prometheus.Metric) {
	collectCIB(o.c, o.leader, o.members, func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	})
}

func scrape(t testing.TB, col prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, b)
	}
	return string(b)
}

// testCIB is three nodes with n Dummy resources spread over them, one
// group, one failed monitor, a standby node and a location constraint.
func testCIB(n int) (*cib.CIB, []membership.Member) {
	c := cib.New()
	at := time.Unix(1700000000, 0)
	var members []membership.Member
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("node%d", i)
		c.Config.Nodes = append(c.Config.Nodes, cib.Node{ID: fmt.Sprint(i), Name: name})
		c.Status.Nodes[name] = &cib.NodeStatus{Name: name, InCCM: true, Crmd: true, Join: "member", Expected: "member", Attributes: map[string]string{}, Resources: map[string]*cib.ResourceHistory{}}
		members = append(members, membership.Member{Meta: membership.Meta{Name: name}, State: membership.StateAlive})
	}
	c.Config.Nodes[1].Attributes = map[string]string{"standby": "on"}
	members[2].State = membership.StateDead
	for i := 0; i < n; i++ {
		p := &cib.Primitive{ID: fmt.Sprintf("r%d", i), Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
		if i == 0 {
			c.Config.Resources = append(c.Config.Resources, cib.Resource{Group: &cib.Group{ID: "g", Members: []*cib.Primitive{p}, Meta: map[string]string{"is-managed": "false"}}})
		} else {
			c.Config.Resources = append(c.Config.Resources, cib.Resource{Primitive: p})
		}
		node := c.Status.Nodes[fmt.Sprintf("node%d", i%3+1)]
		ops := []cib.OpRecord{{ID: p.ID + "_last_0", Operation: "start", CallID: 1, LastRun: at}}
		if i == 1 {
			ops = append(ops, cib.OpRecord{ID: p.ID + "_monitor_10000", Operation: "monitor", IntervalMS: 10000, CallID: 2, RC: 7})
			node.Attributes[cib.FailCountAttr(p.ID, "monitor", 10000)] = "INFINITY"
		}
		node.Resources[p.ID] = &cib.ResourceHistory{ID: p.ID, Class: "ocf", Provider: "pacemaker", Type: "Dummy", Ops: ops}
	}
	c.Config.Constraints.Locations = []cib.Location{{ID: "ban-r2", Resource: "r2", Node: "node1", Score: "-INFINITY"}}
	c.Config.Properties = map[string]string{"stonith-enabled": "false"}
	return c, members
}

func TestCollectCIB(t *testing.T) {
	c, members := testCIB(4)
	c.Config.Resources = append(c.Config.Resources, cib.Resource{Primitive: &cib.Primitive{ID: "idle", Class: "ocf", Provider: "pacemaker", Type: "Dummy"}})
	out := scrape(t, cibOnly{c: c, leader: "node1", members: members})
	for _, want := range []string{
		`ha_cluster_pacemaker_nodes{node="node1",status="dc",type="member"} 1`,
		`ha_cluster_pacemaker_nodes{node="node1",status="online",type="member"} 1`,
		`ha_cluster_pacemaker_nodes{node="node2",status="standby",type="member"} 1`,
		`ha_cluster_pacemaker_nodes{node="node3",status="expected_up",type="member"} 1`,
		`ha_cluster_pacemaker_resources{agent="ocf:pacemaker:Dummy",clone="",group="g",managed="false",node="node1",resource="r0",role="started",status="active"} 1`,
		`ha_cluster_pacemaker_resources{agent="ocf:pacemaker:Dummy",clone="",group="",managed="true",node="node2",resource="r1",role="stopped",status="failed"} 1`,
		`ha_cluster_pacemaker_resources{agent="ocf:pacemaker:Dummy",clone="",group="",managed="true",node="node3",resource="r2",role="started",status="orphaned"} 1`,
		`ha_cluster_pacemaker_resources{agent="ocf:pacemaker:Dummy",clone="",group="",managed="true",node="",resource="idle",role="stopped",status="inactive"} 1`,
		`ha_cluster_pacemaker_fail_count{node="node2",resource="r1"} +Inf`,
		`ha_cluster_pacemaker_fail_count{node="node1",resource="r0"} 0`,
		`ha_cluster_pacemaker_migration_threshold{node="node1",resource="r0"} 1e+06`,
		`ha_cluster_pacemaker_location_constraints{constraint="ban-r2",node="node1",resource="r2",role=""} -Inf`,
		`ha_cluster_pacemaker_stonith_enabled 0`,
		`ha_cluster_pacemaker_node_attributes{name="standby",node="node2",value="on"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	for _, bad := range []string{`ha_cluster_pacemaker_nodes{node="node3",status="online"`, `name="fail-count`} {
		if strings.Contains(out, bad) {
			t.Errorf("unexpected %q in:\n%s", bad, out)
		}
	}
}

// BenchmarkCollectCIB200 is the CIB part of a scrape with 200 resources
// on 3 nodes, rendered to the text format.
func BenchmarkCollectCIB200(b *testing.B) {
	c, members := testCIB(200)
	reg := prometheus.NewRegistry()
	reg.MustRegister(cibOnly{c: c, leader: "node1", members: members})
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	req := httptest.NewRequest("GET", "/metrics", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// An operation is labelled with the agent it ran, also when this node's
// CIB does not have the resource yet (the DC's start outran the
// replication of its creation).
func TestOpAgentName(t *testing.T) {
	c, _ := testCIB(2)
	dummy := cib.AgentName{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}
	for _, tc := range []struct {
		ev   resources.Event
		want string
	}{
		{resources.Event{Resource: "new", Agent: dummy}, "ocf:heartbeat:IPaddr2"},
		{resources.Event{Resource: "r1"}, "ocf:pacemaker:Dummy"},
		{resources.Event{Resource: "gone"}, "unknown"},
	} {
		if got := opAgentName(c, tc.ev); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.ev, got, tc.want)
		}
	}
}
