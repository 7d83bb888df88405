package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"pacer/crm/cib"
	"pacer/test/clusterbed"
)

const failoverBedUsage = `usage: go run ./test/bench failover-bed [flags]   (as root)

Builds the LXC cluster bed (3 libvirt LXC nodes, Debian's fence_virtd),
creates group web = vip (IPaddr2) + haproxy (systemd) with a fence_xvm
device, polls http://VIP:8080 from the client namespace every 20 ms and
times, for each fault, the fault until the VIP answers again.

Faults: node-kill (every process of the holder SIGKILLed), node-hang
(the holder frozen), haproxy-kill (SIGKILL of haproxy's main process),
standby (pcsctl node standby of the holder; unstandby after the trial).

Flags:
`

var faultKinds = []string{"node-kill", "node-hang", "haproxy-kill", "standby"}

type fbOptions struct {
	faults    []string
	trials    int
	json      bool
	monitor   time.Duration
	settle    time.Duration
	noFencing bool
	extra     string
	verbose   bool
	logs      string
	onDC      bool
}

// failoverBed runs "go run ./test/bench failover-bed" and returns the
// exit code.
func failoverBed(args []string) int {
	fs := flag.NewFlagSet("failover-bed", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), failoverBedUsage); fs.PrintDefaults() }
	fault := fs.String("fault", "", "run only this fault (or a comma-separated list): "+strings.Join(faultKinds, ", ")+" (default: all)")
	var o fbOptions
	fs.IntVar(&o.trials, "trials", 10, "trials per fault")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of tables")
	fs.DurationVar(&o.monitor, "monitor", time.Second, "monitor interval of vip and haproxy")
	fs.DurationVar(&o.settle, "settle", time.Second, "quiet time before each fault, once the cluster has settled")
	fs.BoolVar(&o.noFencing, "no-fencing", false, "no fencing device, stonith-enabled=false (a lost node's resources move without a fence)")
	fs.StringVar(&o.extra, "pacerd-extra", "", "top-level pacerd.toml lines for every node (timing knobs), e.g. 'gossip_profile = \"lan\"'")
	fs.BoolVar(&o.verbose, "v", false, "log the bed's progress")
	fs.BoolVar(&o.onDC, "on-dc", false, "move the group onto the DC before each trial, so the fault hits the DC (a Raft election comes first)")
	fs.StringVar(&o.logs, "logs", "", "copy every node's pacerd.log into this directory before the teardown")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.faults = faultKinds
	if *fault != "" {
		o.faults = nil
		for _, f := range strings.Split(*fault, ",") {
			if !slices.Contains(faultKinds, f) {
				fmt.Fprintf(os.Stderr, "bench: --fault %q: want one of %s\n", f, strings.Join(faultKinds, ", "))
				return 2
			}
			o.faults = append(o.faults, f)
		}
	}
	if o.trials < 1 {
		fmt.Fprintln(os.Stderr, "bench: --trials must be at least 1")
		return 2
	}
	if why := clusterbed.Check(); why != "" {
		fmt.Fprintln(os.Stderr, "bench:", why)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := runFailoverBed(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	if len(results) > 0 {
		if o.json {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(results)
		} else {
			printFailoverTables(os.Stdout, results)
		}
	}
	if err != nil {
		return 1
	}
	return 0
}

// faultResult is one fault's line of the JSON output.
type faultResult struct {
	Fault    string  `json:"fault"`
	Fencing  bool    `json:"fencing"`
	Trials   int     `json:"trials"`
	MinMS    float64 `json:"min_ms"`
	MedianMS float64 `json:"median_ms"`
	P95MS    float64 `json:"p95_ms"`
	MaxMS    float64 `json:"max_ms"`
	// SamplesMS are the trials in order; VictimWasDC says which of them
	// hit the DC itself (a Raft election then comes first).
	SamplesMS   []float64   `json:"samples_ms"`
	VictimWasDC []bool      `json:"victim_was_dc"`
	Timeline    []tlEvent   `json:"timeline"`
	Milestones  []milestone `json:"milestones"`
}

// tlEvent is one line of a trial's timeline, at ms after the fault.
type tlEvent struct {
	MS    float64 `json:"ms"`
	Node  string  `json:"node,omitempty"`
	Event string  `json:"event"`
}

// milestone is a named step of the timeline (detected, fenced, ...).
type milestone struct {
	Name string  `json:"name"`
	MS   float64 `json:"ms"`
}

type trialResult struct {
	victim    string
	victimDC  bool
	outage    time.Duration // last answer (or the fault) until answering again
	timeline  []tlEvent
	milestone []milestone
}

type fbRun struct {
	o      fbOptions
	b      *clusterbed.Bed
	p      *clusterbed.Sampler
	vip    string
	status io.Writer
}

func runFailoverBed(ctx context.Context, o fbOptions) (results []faultResult, err error) {
	var bedLog io.Writer
	if o.verbose {
		bedLog = os.Stderr
	}
	fmt.Fprintln(os.Stderr, "building the bed (3 nodes)...")
	defer clusterbed.RemoveBuilt()
	// Not the bed's default pacer-cbed-*: a run takes minutes, and a
	// hand-made cleanup of other beds' leftovers by that name would pull
	// the work directory (libvirt's PID files, the nodes' logs) from
	// under it.
	dir, err := os.MkdirTemp("", "pacer-failover-bed-")
	if err != nil {
		return nil, err
	}
	b, err := clusterbed.Start(clusterbed.Options{Nodes: 3, Dir: dir, PacerdExtra: o.extra, Log: bedLog})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bed %s, work dir %s (PACER_CLUSTERBED_KEEP=1 keeps it, with the nodes' pacerd.log)\n", b.ID, b.Dir)
	// Ctrl-C lands in ctx; every wait below gives up on it. Should one be
	// stuck in something that does not watch ctx, tear the bed down
	// anyway rather than leave domains and namespaces behind.
	var closeOnce sync.Once
	closeBed := func() {
		closeOnce.Do(func() {
			if o.logs != "" {
				if lerr := copyLogs(b, o.logs); lerr != nil {
					fmt.Fprintln(os.Stderr, "bench: keep logs:", lerr)
				}
			}
			fmt.Fprintln(os.Stderr, "tearing the bed down...")
			if cerr := b.Close(); cerr != nil {
				fmt.Fprintln(os.Stderr, "bench: teardown:", cerr)
			}
		})
	}
	finished := make(chan struct{})
	defer func() { close(finished); closeBed() }()
	go func() {
		select {
		case <-finished:
		case <-ctx.Done():
			select {
			case <-finished:
			case <-time.After(20 * time.Second):
				closeBed()
				os.Exit(130)
			}
		}
	}()
	r := &fbRun{o: o, b: b, vip: b.VIP(0), status: os.Stderr}
	dc, err := b.WaitLeader(ctx)
	if err != nil {
		return nil, err
	}
	holder, err := b.SetupWeb(b.Node(dc), clusterbed.WebOptions{Monitor: o.monitor, NoFencing: o.noFencing})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "group web runs on %s (DC %s)\n", holder, dc)
	r.p, err = b.Client.Sample(r.vip+":8080", 20*time.Millisecond)
	if err != nil {
		return nil, err
	}
	defer r.p.Stop()
	for _, f := range o.faults {
		fr := faultResult{Fault: f, Fencing: !o.noFencing}
		var ds []time.Duration
		for i := 0; i < o.trials; i++ {
			tr, err := r.trial(ctx, f)
			if err != nil {
				if len(ds) > 0 {
					results = append(results, summarize(fr, ds))
				}
				return results, fmt.Errorf("%s trial %d: %w", f, i+1, err)
			}
			ds = append(ds, tr.outage)
			fr.SamplesMS = append(fr.SamplesMS, ms(tr.outage))
			fr.VictimWasDC = append(fr.VictimWasDC, tr.victimDC)
			// The median trial's timeline is kept: the one a reader
			// should picture. Until the end, keep the latest.
			if fr.Timeline == nil || i == o.trials/2 {
				fr.Timeline, fr.Milestones = tr.timeline, tr.milestone
			}
			dcNote := ""
			if tr.victimDC {
				dcNote = " (the DC)"
			}
			fmt.Fprintf(os.Stderr, "%s %d/%d: %s%s, answering again after %v\n", f, i+1, o.trials, tr.victim, dcNote, tr.outage.Round(time.Millisecond))
		}
		results = append(results, summarize(fr, ds))
	}
	return results, nil
}

func summarize(fr faultResult, ds []time.Duration) faultResult {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	fr.Trials = len(s)
	fr.MinMS, fr.MaxMS = ms(s[0]), ms(s[len(s)-1])
	if len(s)%2 == 1 {
		fr.MedianMS = ms(s[len(s)/2])
	} else {
		fr.MedianMS = (ms(s[len(s)/2-1]) + ms(s[len(s)/2])) / 2
	}
	// Nearest rank: the smallest sample with at least 95% at or below it.
	fr.P95MS = ms(s[int(math.Ceil(0.95*float64(len(s))))-1])
	return fr
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/100) / 10 }

// trial waits for a settled cluster, injects one fault into the node that
// runs the group, times the client's outage, collects the timeline and
// undoes the fault.
func (r *fbRun) trial(ctx context.Context, fault string) (trialResult, error) {
	var tr trialResult
	dc, holder, err := r.settled(ctx, 60*time.Second)
	if err != nil {
		return tr, fmt.Errorf("before the fault: %w", err)
	}
	if err := sleepCtx(ctx, r.o.settle); err != nil {
		return tr, err
	}
	if r.o.onDC && holder != dc {
		if holder, err = r.moveTo(ctx, dc); err != nil {
			return tr, err
		}
		if err := sleepCtx(ctx, r.o.settle); err != nil {
			return tr, err
		}
	}
	victim := r.b.Node(holder)
	tr.victim, tr.victimDC = holder, holder == dc
	admin := r.admin(victim)
	var t0 time.Time
	switch fault {
	case "node-kill":
		t0 = time.Now()
		victim.KillAll()
	case "node-hang":
		t0 = time.Now()
		err = victim.Freeze()
	case "haproxy-kill":
		var pid int
		var perr error
		for try := 0; try < 5; try++ {
			if pid, perr = victim.MainPID("haproxy.service"); perr == nil {
				break
			}
			_ = sleepCtx(ctx, 100*time.Millisecond)
		}
		if perr != nil {
			return tr, perr
		}
		t0 = time.Now()
		err = syscall.Kill(pid, syscall.SIGKILL)
	case "standby":
		t0 = time.Now()
		if out, errOut, code := admin.Pcsctl("node", "standby", holder); code != 0 {
			err = fmt.Errorf("pcsctl node standby %s: exit %d: %s%s", holder, code, out, errOut)
		}
	}
	if err != nil {
		return tr, fmt.Errorf("inject %s into %s: %w", fault, holder, err)
	}
	if err := r.waitAnswer(ctx, t0, 60*time.Second); err != nil {
		return tr, err
	}
	// A second outage right after the first (a restart that did not
	// hold) belongs to the same fault.
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return tr, err
	}
	co := outageAfter(r.p.Samples(t0.Add(-time.Second)), t0)
	if co.failed && co.answered.IsZero() {
		return tr, errors.New("the VIP stopped answering again after it had recovered")
	}
	if co.failed {
		tr.outage = co.answered.Sub(co.lastOK)
	}
	fence, err := r.undo(ctx, fault, victim, t0)
	if err != nil {
		return tr, fmt.Errorf("after the fault: %w", err)
	}
	tr.timeline, tr.milestone = r.timeline(fault, victim, t0, co, fence)
	return tr, nil
}

// moveTo moves the group to node and lifts the constraint that moved it
// (stickiness keeps it there), then waits for the cluster to settle.
func (r *fbRun) moveTo(ctx context.Context, node string) (string, error) {
	admin := r.b.Node(node)
	for _, args := range [][]string{{"resource", "move", "web", node, "--wait=60s"}, {"resource", "clear", "web", "--wait=60s"}} {
		if out, errOut, code := admin.Pcsctl(args...); code != 0 {
			return "", fmt.Errorf("pcsctl %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	_, holder, err := r.settled(ctx, 60*time.Second)
	if err == nil && holder != node {
		err = fmt.Errorf("group on %s after a move to %s", holder, node)
	}
	return holder, err
}

// admin is a running node other than the victim, to run pcsctl on.
func (r *fbRun) admin(victim *clusterbed.Node) *clusterbed.Node {
	for _, n := range r.b.Running() {
		if n != victim {
			return n
		}
	}
	return victim
}

// settled waits until every node runs and agrees on the DC, the DC is
// idle, exactly one node runs the group and the client gets answers.
func (r *fbRun) settled(ctx context.Context, timeout time.Duration) (dc, holder string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		dc, holder, last := r.settledNow(ctx)
		if last == nil {
			return dc, holder, nil
		}
		if sleepCtx(ctx, 50*time.Millisecond) != nil {
			return "", "", fmt.Errorf("cluster not settled: %v", last)
		}
	}
}

func (r *fbRun) settledNow(ctx context.Context) (string, string, error) {
	if n := len(r.b.Running()); n != len(r.b.Nodes) {
		return "", "", fmt.Errorf("%d of %d nodes running", n, len(r.b.Nodes))
	}
	dc, err := r.b.WaitLeader(ctx)
	if err != nil {
		return "", "", err
	}
	st, err := r.b.DCState(ctx)
	if err != nil {
		return "", "", err
	}
	if !st.Idle || st.DC != dc {
		return "", "", fmt.Errorf("DC %s not idle: %v", st.DC, st.Pending)
	}
	holder, err := r.b.RunningWeb()
	if err != nil {
		return "", "", err
	}
	if x, ok := r.p.Last(); !ok || !x.OK || !strings.HasSuffix(x.Body, holder) {
		return "", "", fmt.Errorf("client: last answer %q (ok %v), group on %s", x.Body, x.OK, holder)
	}
	return dc, holder, nil
}

// clientOutage is what the client saw of one fault.
type clientOutage struct {
	failed   bool      // a request failed after the fault
	lastOK   time.Time // the answer before the first failure, or the fault when later
	failure  time.Time // the first failure known
	answered time.Time // the first answer after the last failure (zero: still out)
	body     string
}

// outageAfter reads the samples around a fault at t0: the outage runs
// from the last answer before the first failure (not before t0) to the
// first answer after the last failure.
func outageAfter(samples []clusterbed.Sample, t0 time.Time) clientOutage {
	var o clientOutage
	first, last := -1, -1
	for i, x := range samples {
		if !x.OK && !x.End.Before(t0) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return o
	}
	o.failed, o.failure, o.lastOK = true, samples[first].End, t0
	for i := first - 1; i >= 0; i-- {
		if samples[i].OK {
			if samples[i].End.After(t0) {
				o.lastOK = samples[i].End
			}
			break
		}
	}
	for _, x := range samples[last+1:] {
		if x.OK {
			o.answered, o.body = x.End, x.Body
			break
		}
	}
	return o
}

// waitAnswer waits until the client has been answered again after the
// fault at t0, or for a few seconds of answers with no failure (the
// client never noticed).
func (r *fbRun) waitAnswer(ctx context.Context, t0 time.Time, timeout time.Duration) error {
	deadline := t0.Add(timeout)
	for {
		o := outageAfter(r.p.Samples(t0.Add(-time.Second)), t0)
		if o.failed && !o.answered.IsZero() {
			return nil
		}
		if !o.failed && time.Since(t0) > 3*time.Second {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the VIP did not answer within %v", timeout)
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// undo puts the cluster back for the next trial: the victim powered on
// and rejoined, haproxy's fail count cleared, the standby lifted. It
// returns the fence that confirmed the victim down, if any.
func (r *fbRun) undo(ctx context.Context, fault string, victim *clusterbed.Node, t0 time.Time) (*cib.FenceEvent, error) {
	admin := r.admin(victim)
	pcs := func(args ...string) error {
		if out, errOut, code := admin.Pcsctl(args...); code != 0 {
			return fmt.Errorf("pcsctl %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return nil
	}
	switch fault {
	case "haproxy-kill":
		return nil, pcs("resource", "cleanup", "haproxy")
	case "standby":
		return nil, pcs("node", "unstandby", victim.Name)
	}
	var fence *cib.FenceEvent
	if !r.o.noFencing {
		var err error
		if fence, err = r.waitFence(ctx, victim.Name, t0, 60*time.Second); err != nil {
			return nil, err
		}
	} else if fault == "node-hang" {
		// Nobody fences without a device: pull the plug so the thawed
		// node does not come back still holding the VIP.
		_ = victim.Destroy()
	}
	victim.ThawCgroups()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// A reboot fence starts the domain again by itself; only a node that
	// stays off is powered on here.
	for {
		if victim.Ready() {
			break
		}
		if st, _ := victim.DomainState(ctx); st != "running" && st != "" {
			if err := victim.PowerOn(); err != nil {
				if st2, _ := victim.DomainState(ctx); st2 != "running" {
					return fence, err
				}
			}
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return fence, fmt.Errorf("%s did not come back: %w", victim.Name, err)
		}
	}
	return fence, nil
}

// waitFence waits for the fence history to show a successful fence of
// node that started after t0.
func (r *fbRun) waitFence(ctx context.Context, node string, t0 time.Time, timeout time.Duration) (*cib.FenceEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		for _, n := range r.b.Running() {
			if n.Name == node {
				continue
			}
			if ev := fenceAfter(ctx, n, node, t0); ev != nil {
				return ev, nil
			}
			break
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return nil, fmt.Errorf("no confirmed fence of %s: %w", node, err)
		}
	}
}

func fenceAfter(ctx context.Context, n *clusterbed.Node, target string, t0 time.Time) *cib.FenceEvent {
	cl, err := n.API()
	if err != nil {
		return nil
	}
	defer cl.Close()
	cx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	x, err := cl.CIB(cx, 0)
	if err != nil || x.CIB == nil {
		return nil
	}
	for _, ev := range x.CIB.FenceHistory {
		if ev.Target == target && ev.Result == "ok" && ev.Start.After(t0) && ev.Action != "on" {
			e := ev
			return &e
		}
	}
	return nil
}

func copyLogs(b *clusterbed.Bed, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range b.Nodes {
		data, err := os.ReadFile(filepath.Join(n.Dir, "pacerd.log"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, n.Name+"-pacerd.log"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func printFailoverTables(w io.Writer, results []faultResult) {
	fmt.Fprintln(w, "| fault | fencing | n | min | median | p95 | max | victim was DC |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		dcs := 0
		for _, v := range r.VictimWasDC {
			if v {
				dcs++
			}
		}
		fmt.Fprintf(w, "| %s | %v | %d | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %d of %d |\n",
			r.Fault, r.Fencing, r.Trials, r.MinMS, r.MedianMS, r.P95MS, r.MaxMS, dcs, r.Trials)
	}
	for _, r := range results {
		fmt.Fprintf(w, "\n%s, one trial:", r.Fault)
		for _, m := range r.Milestones {
			fmt.Fprintf(w, " %s %.0f ms;", m.Name, m.MS)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w)
		for _, e := range r.Timeline {
			node := e.Node
			if node == "" {
				node = "-"
			}
			fmt.Fprintf(w, "    %+8.1f ms  %-6s %s\n", e.MS, node, e.Event)
		}
	}
}
