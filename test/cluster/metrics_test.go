package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/test/testbed"
)

// scrapeUnix fetches /metrics over a node's unix socket.
func scrapeUnix(t testing.TB, n *testbed.Node) string {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", n.Socket)
		},
	}}
	defer hc.CloseIdleConnections()
	return get(t, hc, "http://pacerd/metrics")
}

func get(t testing.TB, hc *http.Client, url string) string {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s\n%s", url, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return string(b)
}

// waitMetric scrapes n until every line appears (and none of absent).
func waitMetric(t *testing.T, n *testbed.Node, lines []string, absent ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := scrapeUnix(t, n)
		missing := ""
		for _, l := range lines {
			if !strings.Contains(out, l) {
				missing = l
			}
		}
		for _, l := range absent {
			if strings.Contains(out, l) {
				missing = "(still there) " + l
			}
		}
		if missing == "" {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("on %s: %s\n%s", n.Name, missing, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A live node's /metrics shows the cluster, and the series follow
// changes made with pcsctl: a new resource appears where it runs, a node
// put in standby says so and the resource moves off it.
func TestMetricsLive(t *testing.T) {
	c, err := newCluster(t, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	// node1 also serves plain HTTP on metrics_addr (the others do not).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plain := l.Addr().String()
	l.Close()
	if err := testbed.InsertTopLevel(c.Nodes[0].Config, fmt.Sprintf("metrics_addr = %q", plain)); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	leader := waitLeader(t, c.Cluster)
	n := c.Nodes[0]
	run := func(args ...string) string { t.Helper(); return pcsOK(t, c.Cluster, n, args...) }
	var online []string
	for _, nd := range c.Nodes {
		online = append(online, fmt.Sprintf(`ha_cluster_pacemaker_nodes{node=%q,status="online",type="member"} 1`, nd.Name))
	}
	waitMetric(t, n, append(online,
		fmt.Sprintf(`ha_cluster_pacemaker_nodes{node=%q,status="dc",type="member"} 1`, leader),
		fmt.Sprintf(`pacer_dc{node=%q} 1`, leader),
		"ha_cluster_corosync_quorate 1",
		`ha_cluster_corosync_quorum_votes{type="expected_votes"} 3`,
		`pacer_gossip_members{state="alive"} 3`,
		"ha_cluster_pacemaker_stonith_enabled 1",
		`pacer_raft_servers{role="voter"} 3`,
		"go_goroutines ",
	))

	run("property", "set", "stonith-enabled=false")
	run("resource", "create", "web", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "op", "monitor", "interval=1s", "--wait=30s")
	on := activeOn(c.Cluster, "web")
	if len(on) != 1 {
		t.Fatalf("web on %v", on)
	}
	series := func(node, status string) string {
		return fmt.Sprintf(`ha_cluster_pacemaker_resources{agent="ocf:pacemaker:Dummy",clone="",group="",managed="true",node=%q,resource="web",role=%q,status=%q} 1`,
			node, map[string]string{"active": "started", "inactive": "stopped"}[status], status)
	}
	waitMetric(t, n, []string{series(on[0], "active"), "ha_cluster_pacemaker_stonith_enabled 0",
		fmt.Sprintf(`ha_cluster_pacemaker_fail_count{node=%q,resource="web"} 0`, on[0])})
	// The node that ran the operations has their durations.
	waitMetric(t, c.Node(on[0]), []string{
		`pacer_resource_operation_duration_seconds_count{agent="ocf:pacemaker:Dummy",operation="start"} 1`,
		`pacer_resource_operations_total{agent="ocf:pacemaker:Dummy",operation="monitor",rc="0"}`,
	})

	run("node", "standby", on[0], "--wait=30s")
	moved := activeOn(c.Cluster, "web")
	if len(moved) != 1 || moved[0] == on[0] {
		t.Fatalf("after standby web on %v", moved)
	}
	waitMetric(t, n, []string{
		fmt.Sprintf(`ha_cluster_pacemaker_nodes{node=%q,status="standby",type="member"} 1`, on[0]),
		fmt.Sprintf(`ha_cluster_pacemaker_node_attributes{name="standby",node=%q,value="on"} 1`, on[0]),
		series(moved[0], "active"),
	}, series(on[0], "active"))

	// The same, without client certificates, on metrics_addr.
	if got := get(t, &http.Client{Timeout: 10 * time.Second}, "http://"+plain+"/metrics"); !strings.Contains(got, series(moved[0], "active")) {
		t.Errorf("metrics_addr serves a different view:\n%s", got)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + plain + "/v1/cib")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("metrics_addr must serve /metrics only; /v1/cib gave %d", resp.StatusCode)
	}
}

// BenchmarkMetricsScrape times GET /metrics on the unix socket of a
// live 3-node cluster holding 200 Dummy resources (all started).
func BenchmarkMetricsScrape(b *testing.B) {
	dir := b.TempDir()
	c, err := testbed.New(dir, bins, testbed.Options{Nodes: 3})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	cl := c.Nodes[0].Client()
	defer cl.Close()
	cmds := []store.Command{&store.SetProperty{Name: "stonith-enabled", Value: "false"}}
	for i := 0; i < 200; i++ {
		cmds = append(cmds, &store.CreateResource{Primitive: cib.Primitive{ID: fmt.Sprintf("r%03d", i), Class: "ocf", Provider: "pacemaker", Type: "Dummy",
			Meta: map[string]string{"agent-implementation": "native"}}})
	}
	batch, err := store.NewBatch(cmds...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cl.Apply(ctx, batch); err != nil {
		b.Fatal(err)
	}
	want := `resource="r199",role="started",status="active"`
	for !strings.Contains(scrapeUnix(b, c.Nodes[0]), want) {
		if ctx.Err() != nil {
			b.Fatal("the 200 resources did not all start")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i := 0; i < 200; i++ {
		if len(activeOn(c, fmt.Sprintf("r%03d", i))) != 1 {
			b.Fatalf("r%03d not active on exactly one node", i)
		}
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", c.Nodes[0].Socket)
	}}}
	b.ResetTimer()
	var size int
	for b.Loop() {
		size = len(get(b, hc, "http://pacerd/metrics"))
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
