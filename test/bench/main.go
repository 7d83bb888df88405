// Command bench measures a real 3-node pacer cluster on 127.0.0.1: leader
// failover after SIGKILL, write latency through the API and through
// pcsctl, and the idle footprint of one pacerd. It prints a Markdown
// table; docs/benchmarks.md explains the figures.
//
//	go run ./test/bench [-trials 10] [-writes 1000] [-idle 60s] [-only election,writes,idle]
//
// "go run ./test/bench failover-bed" instead times failover on the LXC
// cluster bed, with real fencing (see failoverbed.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"pacer/crm/store"
	"pacer/test/testbed"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "failover-bed" {
		os.Exit(failoverBed(os.Args[2:]))
	}
	trials := flag.Int("trials", 10, "leader kills to time")
	writes := flag.Int("writes", 1000, "sequential writes to time")
	idle := flag.Duration("idle", 60*time.Second, "how long to watch an idle pacerd")
	only := flag.String("only", "election,writes,idle,failover", "which measurements to run")
	flag.Parse()
	if err := run(*trials, *writes, *idle, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(trials, writes int, idle time.Duration, only string) error {
	dir, err := os.MkdirTemp("", "pacer-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "building pacerd and pcsctl...")
	bins, err := testbed.Build(dir)
	if err != nil {
		return err
	}
	c, err := testbed.New(dir, bins, testbed.Options{Nodes: 3})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		return err
	}
	if _, err := wait(c); err != nil {
		return err
	}
	fmt.Println("| measurement | n | median | p95 | p99 | max |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	if strings.Contains(only, "election") {
		if err := election(c, trials); err != nil {
			return err
		}
	}
	if strings.Contains(only, "writes") {
		if err := writeLatency(c, writes); err != nil {
			return err
		}
	}
	if strings.Contains(only, "failover") {
		if err := failover(c, trials); err != nil {
			return err
		}
	}
	if strings.Contains(only, "idle") {
		if err := idleFootprint(c, idle); err != nil {
			return err
		}
	}
	return nil
}

func wait(c *testbed.Cluster) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.WaitLeader(ctx)
}

// election: SIGKILL the leader, time until the survivors agree on a new
// one; restart the victim and let it catch up before the next trial.
func election(c *testbed.Cluster, trials int) error {
	var d []time.Duration
	for i := 0; i < trials; i++ {
		leader, err := wait(c)
		if err != nil {
			return err
		}
		victim := c.Node(leader)
		time.Sleep(500 * time.Millisecond) // let heartbeats settle
		start := time.Now()
		victim.Kill()
		// Survivors keep reporting the dead leader until their election
		// timeout fires: wait for one they agree on that is not it.
		next := leader
		for next == leader {
			if next, err = wait(c); err != nil {
				return err
			}
			if next == leader {
				time.Sleep(5 * time.Millisecond)
			}
		}
		d = append(d, time.Since(start))
		fmt.Fprintf(os.Stderr, "trial %d: %s killed, %s leads after %v\n", i+1, leader, next, d[len(d)-1].Round(time.Millisecond))
		if err := victim.Start(); err != nil {
			return err
		}
		if _, err := wait(c); err != nil {
			return err
		}
	}
	row("leader SIGKILL -> new leader agreed by all survivors", d)
	return nil
}

func writeLatency(c *testbed.Cluster, n int) error {
	leader, err := wait(c)
	if err != nil {
		return err
	}
	var follower *testbed.Node
	for _, nd := range c.Nodes {
		if nd.Name != leader {
			follower = nd
			break
		}
	}
	for _, target := range []struct {
		label string
		node  *testbed.Node
	}{{"API write on the leader (unix socket)", c.Node(leader)}, {"API write on a follower (forwarded over TLS)", follower}} {
		cl := target.node.Client()
		var d []time.Duration
		for i := 0; i < n; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			start := time.Now()
			_, err := cl.Apply(ctx, &store.SetProperty{Name: "cluster-recheck-interval", Value: strconv.Itoa(60+i%2) + "s"})
			d = append(d, time.Since(start))
			cancel()
			if err != nil {
				cl.Close()
				return err
			}
		}
		cl.Close()
		row(target.label, d)
	}
	var d []time.Duration
	sock := c.Node(leader).Socket
	for i := 0; i < n; i++ {
		start := time.Now()
		out, err := exec.Command(c.Bin.Pcsctl, "--socket", sock, "property", "set", "cluster-recheck-interval="+strconv.Itoa(60+i%2)+"s").CombinedOutput()
		d = append(d, time.Since(start))
		if err != nil {
			return fmt.Errorf("pcsctl: %v: %s", err, out)
		}
	}
	row("pcsctl property set (process start to exit, on the leader)", d)
	return nil
}

func idleFootprint(c *testbed.Cluster, window time.Duration) error {
	leader, err := wait(c)
	if err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	start := map[string]int64{}
	for _, nd := range c.Nodes {
		if start[nd.Name], err = cpuTicks(nd.PID()); err != nil {
			return err
		}
	}
	time.Sleep(window)
	for _, nd := range c.Nodes {
		end, err := cpuTicks(nd.PID())
		if err != nil {
			return err
		}
		rss, err := rssKB(nd.PID())
		if err != nil {
			return err
		}
		role := "follower"
		if nd.Name == leader {
			role = "leader"
		}
		secs := float64(end-start[nd.Name]) / 100 // USER_HZ is 100 on Linux
		fmt.Printf("| idle pacerd %s (%s): CPU over %v, RSS | 1 | %.2f s = %.2f%% of a core; %.1f MB RSS | | | |\n", nd.Name, role, window, secs, 100*secs/window.Seconds(), float64(rss)/1024)
	}
	return nil
}

func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// Fields after the ")" of the command name; utime and stime are the
	// 14th and 15th fields of the whole line.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func row(label string, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) string {
		i := int(p * float64(len(d)-1))
		return fmtDur(d[i])
	}
	fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", label, len(d), q(0.5), q(0.95), q(0.99), fmtDur(d[len(d)-1]))
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

// failover: a native Dummy group (state files on disk) runs on a node
// whose pacerd is SIGKILLed (its state files removed, as the resources
// would die with a node); timed until the group's state files exist on
// another node. Fencing is off: this is detection + DC + executors.
func failover(c *testbed.Cluster, trials int) error {
	n := c.Nodes[0]
	for _, args := range [][]string{
		{"property", "set", "stonith-enabled=false"},
		{"resource", "create", "fo-ip", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--group", "fo", "--wait=30s"},
		{"resource", "create", "fo-app", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--group", "fo", "--wait=30s"},
	} {
		if _, e, code := c.Pcsctl(n, args...); code != 0 {
			return fmt.Errorf("pcsctl %v: %s", args, e)
		}
	}
	stateOf := func(nd *testbed.Node, rsc string) string {
		return filepath.Join(nd.Dir, "data", "dummy", "Dummy-"+rsc+".state")
	}
	where := func() *testbed.Node {
		for _, nd := range c.Nodes {
			_, e1 := os.Stat(stateOf(nd, "fo-ip"))
			_, e2 := os.Stat(stateOf(nd, "fo-app"))
			if e1 == nil && e2 == nil && nd.Running() {
				return nd
			}
		}
		return nil
	}
	var d []time.Duration
	for i := 0; i < trials; i++ {
		holder := where()
		for wait := time.Now(); holder == nil && time.Since(wait) < 30*time.Second; holder = where() {
			time.Sleep(20 * time.Millisecond)
		}
		if holder == nil {
			return fmt.Errorf("trial %d: the group runs nowhere", i+1)
		}
		time.Sleep(time.Second)
		start := time.Now()
		holder.Kill()
		os.Remove(stateOf(holder, "fo-ip"))
		os.Remove(stateOf(holder, "fo-app"))
		var next *testbed.Node
		for next = where(); next == nil; next = where() {
			if time.Since(start) > 30*time.Second {
				return fmt.Errorf("trial %d: not recovered after %s died", i+1, holder.Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
		d = append(d, time.Since(start))
		fmt.Fprintf(os.Stderr, "failover %d: %s killed, group on %s after %v\n", i+1, holder.Name, next.Name, d[len(d)-1].Round(time.Millisecond))
		if err := holder.Start(); err != nil {
			return err
		}
		if _, err := wait(c); err != nil {
			return err
		}
	}
	row("node SIGKILL -> 2-member group running on another node (no fencing)", d)
	return nil
}
