package cluster_test

import (
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/test/testbed"
)

// BenchmarkMonChangeToScreen measures how long a CIB change takes to be
// on screen in pcsctl mon: from just before the write is sent to the
// first capture of the 80x24 pane that shows it (the new cluster name in
// the summary). It makes at least 25 changes and reports the median and the
// 90th percentile; -benchtime=1x is enough.
func BenchmarkMonChangeToScreen(b *testing.B) {
	c, leader := startClusterOpts(b, testbed.Options{Nodes: 3})
	// The screen on a node that is not the DC: the slower case, since
	// that node learns of a commit from the leader.
	watched := c.Nodes[0]
	if watched.Name == leader {
		watched = c.Nodes[2]
	}
	scr := startTmux(b, c.Bin.Pcsctl, "--socket", watched.Socket, "mon")
	scr.WaitText(15*time.Second, "Node List:")
	cl := c.Nodes[1].Client()
	defer cl.Close()
	n := max(b.N, 25)
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-%d", i)
		start := time.Now()
		if _, err := cl.Apply(ctx(b), &store.SetProperty{Name: "cluster-name", Value: name}); err != nil {
			b.Fatal(err)
		}
		scr.WaitFor(10*time.Second, name, func(s string) bool { return strings.Contains(s, "Cluster name: "+name+"\n") })
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	med, p90 := quantiles(took)
	b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(p90.Microseconds())/1000, "ms-p90")
	b.Logf("%d changes (DC %s, screen on %s, writes via %s): median %v, p90 %v, max %v", len(took), leader, watched.Name, c.Nodes[1].Name, med, p90, took[len(took)-1])
}

// BenchmarkStatusJSON200 measures 'pcsctl status --output-as json' wall
// time (the process included, as a script sees it) on a 3-node cluster
// running 200 resources.
func BenchmarkStatusJSON200(b *testing.B) {
	c, _ := startClusterOpts(b, testbed.Options{Nodes: 3})
	cl := c.Nodes[0].Client()
	defer cl.Close()
	if _, err := cl.Apply(ctx(b), &store.SetProperty{Name: "stonith-enabled", Value: "false"}); err != nil {
		b.Fatal(err)
	}
	var cmds []store.Command
	for i := 0; i < 200; i++ {
		cmds = append(cmds, &store.CreateResource{Primitive: cib.Primitive{ID: fmt.Sprintf("r%03d", i), Class: "ocf", Provider: "pacemaker", Type: "Dummy",
			Meta: map[string]string{"agent-implementation": "native"}}})
	}
	batch, err := store.NewBatch(cmds...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cl.Apply(ctx(b), batch); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		st, err := cl.Status(ctx(b))
		if err == nil {
			started := 0
			for _, r := range st.Resources {
				if r.Role == "Started" {
					started++
				}
			}
			if started == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("200 resources did not start in 120s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var took []time.Duration
	var size int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		out, err := exec.Command(c.Bin.Pcsctl, "--socket", c.Nodes[1].Socket, "status", "--output-as", "json").Output()
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		size = len(out)
	}
	b.StopTimer()
	med, p90 := quantiles(took)
	b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(p90.Microseconds())/1000, "ms-p90")
	b.ReportMetric(float64(size), "bytes")
}

func quantiles(d []time.Duration) (median, p90 time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[len(d)*9/10]
}
