package clusterbed

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pacer/crm/cib"
)

// Scenarios 7 to 10 of the controller issue: a split, a two-node pair,
// a DC killed in the middle of a transition, a full cluster restart. In
// each, a client polls the VIP every 20 ms and the safety checker
// samples every node; the outages are logged as figures for the issue
// (the machine is shared, so they are not asserted), a violation fails
// the test.

// webWatch is the client poller and the safety checker of one scenario.
type webWatch struct {
	t        *testing.T
	poll     *Poller
	safety   *Safety
	reported int
	stopped  bool
}

func watchWeb(t *testing.T, b *Bed) *webWatch {
	t.Helper()
	s, err := b.WatchSafety([]string{b.VIP(0)}, []string{"haproxy.service"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Client.Poll(b.VIP(0)+":8080", 20*time.Millisecond)
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	w := &webWatch{t: t, poll: p, safety: s}
	// Before the bed's teardown (cleanups run last first): a node
	// destroyed by the teardown is no finding.
	t.Cleanup(w.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := p.Last(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client gets no answer through the VIP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return w
}

// phase logs the outages that ended since the last call, and one that
// still lasts, under label; it returns the ended ones.
func (w *webWatch) phase(label string) []Outage {
	w.t.Helper()
	all := w.poll.Outages()
	var ended []Outage
	for _, o := range all[w.reported:] {
		if o.End.IsZero() {
			w.t.Logf("%s: outage still lasting after %v (last answer %q, error %s)", label, o.Duration().Round(time.Millisecond), o.Before, o.Err)
			continue
		}
		ended = append(ended, o)
		w.t.Logf("%s: outage %d ms (%q -> %q; %s)", label, o.Duration().Milliseconds(), o.Before, o.After, o.Err)
	}
	if len(ended) == 0 {
		w.t.Logf("%s: no outage", label)
	}
	w.reported += len(ended)
	return ended
}

// stop ends both and fails the test on any violation of the safety
// invariant.
func (w *webWatch) stop() {
	if w.stopped {
		return
	}
	w.stopped = true
	w.poll.Stop()
	v := w.safety.Stop()
	ok, bad := w.poll.Counts()
	w.t.Logf("client: %d answers, %d failed requests; safety: %d rounds, %d violations", ok, bad, w.safety.Rounds(), len(v))
	for i, x := range v {
		if i == 10 {
			w.t.Errorf("... and %d more", len(v)-i)
			break
		}
		w.t.Errorf("safety violation: %v", x)
	}
}

// answersFrom checks that the client gets answers from node right now.
func (w *webWatch) answersFrom(node string) {
	w.t.Helper()
	waitAnswer(w.t, w.poll, "haproxy ok from "+node)
}

func waitCond(t *testing.T, what string, timeout time.Duration, cond func() bool, dump func() string) time.Duration {
	t.Helper()
	t0 := time.Now()
	for !cond() {
		if time.Since(t0) > timeout {
			t.Fatalf("%s: not after %v\n%s", what, timeout, dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(t0)
}

func fenceHistory(t testing.TB, admin *Node, target string) []cib.FenceEvent {
	t.Helper()
	var h []cib.FenceEvent
	out := pcsOK(t, admin, "stonith", "history", target, "--json")
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("stonith history --json: %v\n%s", err, out)
	}
	return h
}

// fencedOK checks that target was fenced off by a node in by, through
// the bed's fence_xvm device (Debian's fence_virtd), and that nothing
// of it survived.
func fencedOK(t *testing.T, admin *Node, target *Node, before []int, by ...string) {
	t.Helper()
	for _, p := range before {
		if !zombie(p) {
			t.Errorf("process %d of %s survived its fence", p, target.Name)
		}
	}
	if left := target.Processes(); len(left) > 0 {
		t.Errorf("%s still has processes %v", target.Name, left)
	}
	// A two-node survivor writes the record once it leads, a moment
	// after the fence.
	var ok []cib.FenceEvent
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ok = ok[:0]
		for _, e := range fenceHistory(t, admin, target.Name) {
			if e.Result == "ok" && e.Action == "off" {
				ok = append(ok, e)
			}
		}
		if len(ok) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(ok) != 1 || ok[0].Device != FenceDevice || !slices.Contains(by, ok[0].Executor) {
		t.Errorf("fence history of %s: %+v; want one successful off by %v through %s", target.Name, ok, by, FenceDevice)
		return
	}
	t.Logf("%s fenced by %s (origin %s) through %s in %v", target.Name, ok[0].Executor, ok[0].Origin, ok[0].Device, ok[0].Duration.Round(time.Millisecond))
}

// powerOnRejoin powers a fenced node on and waits until every node
// agrees on the DC again.
func powerOnRejoin(t *testing.T, b *Bed, n *Node) time.Duration {
	t.Helper()
	t0 := time.Now()
	if err := n.PowerOn(); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextTimeout(60 * time.Second)
	defer cancel()
	if _, err := b.WaitLeader(ctx); err != nil {
		t.Fatalf("%s did not rejoin: %v\n%s", n.Name, err, n.Log())
	}
	return time.Since(t0)
}

// incarnations are the init PIDs of the running nodes: a node whose
// PID changed was restarted (or fenced) in between.
func incarnations(b *Bed) map[string]int {
	out := map[string]int{}
	for _, n := range b.Nodes {
		if pid, err := n.InitPID(); err == nil {
			out[n.Name] = pid
		}
	}
	return out
}

func others(b *Bed, not ...string) []*Node {
	var out []*Node
	for _, n := range b.Nodes {
		if !slices.Contains(not, n.Name) {
			out = append(out, n)
		}
	}
	return out
}

func names(ns []*Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

// restoreOnExit brings a cut link back if the test ends with the node
// still running (a failure before its fence).
func restoreOnExit(t *testing.T, n *Node) {
	t.Cleanup(func() {
		if _, err := n.InitPID(); err == nil {
			_ = n.RestoreLink()
		}
	})
}

// Scenario 7: a 2|1 split. The node cut off is fenced by the majority
// through fence_virtd (its own side has no leader, so it fences nobody,
// and could reach nothing anyway) and the majority keeps serving: the
// group stays where it is when the majority runs it, and is recovered
// there when the cut node ran it. With the fence held back (fence_virtd
// down for a while), the cut node stops its copy itself
// (no-quorum-policy=stop) before anything is started elsewhere.
func TestScenarioSplitMinority(t *testing.T) {
	b := Up(t, Options{})
	admin := b.Running()[0]
	on, err := b.SetupWeb(admin, WebOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	// Off, not reboot: the cut node stays off until the test powers it
	// on, so "really off" can be checked.
	pcsOK(t, admin, "property", "set", "stonith-action=off")
	w := watchWeb(t, b)

	cut := func(t *testing.T, m *Node) (majority []*Node, before []int, fenced time.Duration) {
		t.Helper()
		majority = others(b, m.Name)
		inc := incarnations(b)
		before = m.Processes()
		restoreOnExit(t, m)
		if err := m.CutLink(); err != nil {
			t.Fatal(err)
		}
		fenced = waitCond(t, m.Name+" fenced", 60*time.Second, func() bool { return len(m.Processes()) == 0 }, b.Logs)
		if err := m.WaitDomain("shutoff", 10*time.Second); err != nil {
			t.Error(err)
		}
		now := incarnations(b)
		for _, n := range majority {
			if now[n.Name] != inc[n.Name] {
				t.Errorf("%s of the majority was restarted or fenced (init %d -> %d)", n.Name, inc[n.Name], now[n.Name])
			}
		}
		return majority, before, fenced
	}

	ok := t.Run("majority runs the group", func(t *testing.T) {
		ctx, cancel := contextTimeout(10 * time.Second)
		dc, _ := b.WaitLeader(ctx)
		cancel()
		// The DC itself, if it does not run the group: the majority
		// must elect a new one before it can fence.
		m := others(b, on)[0]
		if dc != on && dc != "" {
			m = b.Node(dc)
		}
		t.Logf("group on %s, DC %s; cutting %s", on, dc, m.Name)
		majority, before, took := cut(t, m)
		t.Logf("%s fenced %v after its link was cut", m.Name, took.Round(time.Millisecond))
		fencedOK(t, majority[0], m, before, names(majority)...)
		if got, err := b.WaitWeb(on, 5*time.Second); err != nil {
			t.Errorf("the group moved: %v (%s)", err, got)
		}
		w.answersFrom(on)
		w.phase("split, group on the majority")
		back := powerOnRejoin(t, b, m)
		t.Logf("%s powered on and rejoined in %v", m.Name, back.Round(time.Millisecond))
		if _, err := b.WaitWeb(on, 5*time.Second); err != nil {
			t.Errorf("after %s rejoined: %v", m.Name, err)
		}
		w.phase("rejoin")
	})
	if !ok {
		t.FailNow()
	}

	ok = t.Run("minority runs the group", func(t *testing.T) {
		m := b.Node(on)
		majority, before, took := cut(t, m)
		t.Logf("%s (holder) fenced %v after its link was cut", m.Name, took.Round(time.Millisecond))
		now, err := b.WaitWeb("", 30*time.Second)
		if err != nil {
			t.Fatalf("%v\n%s", err, b.Logs())
		}
		if now == m.Name {
			t.Fatalf("group still on %s", now)
		}
		fencedOK(t, majority[0], m, before, names(majority)...)
		w.answersFrom(now)
		w.phase("split, group on the minority")
		back := powerOnRejoin(t, b, m)
		t.Logf("%s powered on and rejoined in %v", m.Name, back.Round(time.Millisecond))
		if _, err := b.WaitWeb(now, 5*time.Second); err != nil {
			t.Errorf("after %s rejoined: %v", m.Name, err)
		}
		on = now
		w.phase("rejoin")
	})
	if !ok {
		t.FailNow()
	}

	t.Run("fence held back: the minority stops its copy", func(t *testing.T) {
		m := b.Node(on)
		pcsOK(t, admin, "property", "set", "stonith-timeout=3s")
		defer pcsOK(t, b.Node(others(b, m.Name)[0].Name), "property", "set", "stonith-timeout=")
		if err := b.StopDaemon("fence_virtd"); err != nil {
			t.Fatal(err)
		}
		restarted := false
		defer func() {
			if !restarted {
				_ = b.StartFenceVirtd()
			}
		}()
		logFrom := len(m.Log())
		majority := others(b, m.Name)
		before := m.Processes()
		restoreOnExit(t, m)
		t0 := time.Now()
		if err := m.CutLink(); err != nil {
			t.Fatal(err)
		}
		stopped := func() bool {
			return len(m.UnitPIDs("haproxy.service")) == 0 && !slices.Contains(m.Addrs(), b.VIP(0))
		}
		took := waitCond(t, m.Name+" stops its copy", 30*time.Second, stopped, func() string { return m.Log()[logFrom:] })
		if len(m.Processes()) == 0 {
			t.Fatalf("%s was fenced although fence_virtd is down", m.Name)
		}
		t.Logf("%s stopped the group itself %v after its link was cut", m.Name, took.Round(time.Millisecond))
		if l := m.Log()[logFrom:]; !strings.Contains(l, "no quorum: applying no-quorum-policy") {
			t.Errorf("%s's log does not say it applied no-quorum-policy:\n%s", m.Name, l)
		}
		if on2, err := b.RunningWeb(); err == nil {
			t.Errorf("group started on %s before %s was fenced", on2, m.Name)
		}
		if err := b.StartFenceVirtd(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		waitCond(t, m.Name+" fenced", 60*time.Second, func() bool { return len(m.Processes()) == 0 }, b.Logs)
		now, err := b.WaitWeb("", 30*time.Second)
		if err != nil {
			t.Fatalf("%v\n%s", err, b.Logs())
		}
		t.Logf("group on %s %v after the cut (fence_virtd was down for %v)", now, time.Since(t0).Round(time.Millisecond), took.Round(time.Millisecond))
		for _, p := range before {
			if !zombie(p) {
				t.Errorf("process %d of %s survived its fence", p, m.Name)
			}
		}
		var okOff int
		for _, e := range fenceHistory(t, majority[0], m.Name) {
			if e.Start.After(t0) && e.Result == "ok" && e.Action == "off" && slices.Contains(names(majority), e.Executor) {
				okOff++
			}
		}
		if okOff != 1 {
			t.Errorf("%s has %d successful fences by the majority since its link was cut, want 1", m.Name, okOff)
		}
		w.answersFrom(now)
		w.phase("split with the fence held back")
		back := powerOnRejoin(t, b, m)
		t.Logf("%s powered on and rejoined in %v", m.Name, back.Round(time.Millisecond))
		w.phase("rejoin")
	})
}

// Scenario 8: the seeds' two-node pair. Status names the fence race's
// winner (the node that runs the group) and why; on a link cut the
// winner fences its peer through fence_virtd (the peer's own request
// reaches nothing), the peer is really off, the group is served
// throughout; powered on, the peer rejoins as a voter and the group
// stays.
func TestScenarioTwoNode(t *testing.T) {
	b := Up(t, Options{Names: []string{"server1", "server4"}})
	admin := b.Nodes[0]
	on, err := b.SetupWeb(admin, WebOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	pcsOK(t, admin, "property", "set", "stonith-action=off")
	holder := b.Node(on)
	peer := others(b, on)[0]
	race := fmt.Sprintf("Fence race: %s fences at once, %s waits 2s (%s runs more resources", holder.Name, peer.Name, holder.Name)
	for _, n := range b.Nodes {
		out := pcsOK(t, n, "status")
		if !strings.Contains(out, "Two-node mode (peer ") || !strings.Contains(out, race) {
			t.Errorf("status on %s does not show the fence race (%q):\n%s", n.Name, race, out)
		}
		if n == peer {
			t.Logf("status on %s:\n%s", n.Name, out)
		}
	}
	if q := pcsOK(t, holder, "quorum", "status"); !strings.Contains(q, "Voters: 2") {
		t.Errorf("quorum status before the cut:\n%s", q)
	}
	w := watchWeb(t, b)
	inc := incarnations(b)
	before := peer.Processes()
	restoreOnExit(t, peer)
	if err := peer.CutLink(); err != nil {
		t.Fatal(err)
	}
	took := waitCond(t, peer.Name+" fenced", 60*time.Second, func() bool { return len(peer.Processes()) == 0 }, b.Logs)
	t.Logf("%s fenced %v after its link was cut", peer.Name, took.Round(time.Millisecond))
	if err := peer.WaitDomain("shutoff", 10*time.Second); err != nil {
		t.Error(err)
	}
	if now := incarnations(b); now[holder.Name] != inc[holder.Name] {
		t.Fatalf("%s, the race's winner, was fenced too", holder.Name)
	}
	fencedOK(t, holder, peer, before, holder.Name)
	if _, err := b.WaitWeb(holder.Name, 5*time.Second); err != nil {
		t.Error(err)
	}
	w.answersFrom(holder.Name)
	quorate := func(n *Node, voters string) func() bool {
		return func() bool {
			out, _, code := n.Pcsctl("quorum", "status")
			return code == 0 && strings.Contains(out, "Quorate: yes (DC "+holder.Name+")") && strings.Contains(out, voters)
		}
	}
	dump := func() string { o, e, _ := holder.Pcsctl("quorum", "status"); return o + e + holder.Log() }
	waitCond(t, holder.Name+" leads alone", 20*time.Second, quorate(holder, "Voters: 1 ["+holder.Name+"]"), dump)
	w.phase("link cut")

	back := powerOnRejoin(t, b, peer)
	t.Logf("%s powered on and rejoined in %v", peer.Name, back.Round(time.Millisecond))
	both := fmt.Sprintf("Voters: 2 %v", []string{b.Nodes[0].Name, b.Nodes[1].Name})
	took = waitCond(t, "both voters again", 60*time.Second, quorate(holder, both), dump)
	waitCond(t, "both voters again, as "+peer.Name+" sees it", 20*time.Second, quorate(peer, both), dump)
	t.Logf("both voters %v after %s was ready", took.Round(time.Millisecond), peer.Name)
	// Long enough for a DC round or two: the group must not come back.
	time.Sleep(2 * time.Second)
	if _, err := b.WaitWeb(holder.Name, time.Second); err != nil {
		t.Error(err)
	}
	w.answersFrom(holder.Name)
	if out := pcsOK(t, holder, "status"); !strings.Contains(out, race) {
		t.Errorf("status after the rejoin does not show the fence race (%q):\n%s", race, out)
	}
	w.phase("peer back")
}

// Scenario 9: the DC's pacerd is SIGKILLed while a move of the group
// runs (haproxy's start on the target is made to take a second longer,
// so the kill lands inside it). The new DC fences the old DC's node and
// finishes the move; nothing is started twice, neither by systemd nor
// by pacer's executors.
func TestScenarioDCKilledMidTransition(t *testing.T) {
	b := Up(t, Options{})
	admin := b.Running()[0]
	on, err := b.SetupWeb(admin, WebOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	pcsOK(t, admin, "property", "set", "stonith-action=off")
	ctx, cancel := contextTimeout(10 * time.Second)
	dcName, err := b.WaitLeader(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	dc := b.Node(dcName)
	target := others(b, on, dcName)[0]
	t.Logf("group on %s, DC %s, moving to %s", on, dcName, target.Name)
	slow := filepath.Join(target.Dir, "units", "haproxy.service.d", "slow.conf")
	if err := os.WriteFile(slow, []byte("[Service]\nExecStartPre=/bin/sleep 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := target.Exec("systemctl", "daemon-reload"); err != nil {
		t.Fatal(err)
	}
	type counts struct{ unit, hapStart, vipStart int }
	count := func() map[string]counts {
		out := map[string]counts{}
		for _, n := range b.Nodes {
			out[n.Name] = counts{n.UnitStarts("haproxy.service"), n.ExecutorOps("haproxy", "start"), n.ExecutorOps("vip", "start")}
		}
		return out
	}
	c0 := count()
	t.Logf("starts before (systemd haproxy, executor haproxy, executor vip): %v", c0)

	w := watchWeb(t, b)
	inc := incarnations(b)
	before := dc.Processes()
	logFrom := len(dc.Log())
	pcsOK(t, target, "resource", "move", "web", target.Name)
	inStart := func() bool {
		l := dc.Log()[logFrom:]
		return strings.Contains(l, "start haproxy on "+target.Name)
	}
	waitCond(t, "the DC starts haproxy on "+target.Name, 30*time.Second, inStart, func() string { return dc.Log()[logFrom:] })
	pids, err := dc.KillPacerd()
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("pacerd %v on %s SIGKILLed while it starts haproxy on %s", pids, dcName, target.Name)
	if _, err := b.WaitWeb(target.Name, 60*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	t.Logf("group on %s %v after the kill", target.Name, time.Since(killed).Round(time.Millisecond))
	waitCond(t, dcName+" fenced", 60*time.Second, func() bool { return len(dc.Processes()) == 0 }, b.Logs)
	fencedOK(t, target, dc, before, names(others(b, dcName))...)
	for _, n := range others(b, dcName) {
		if incarnations(b)[n.Name] != inc[n.Name] {
			t.Errorf("%s was restarted or fenced", n.Name)
		}
	}
	// Settle: a second start would come from the new DC's next rounds.
	ctx, cancel = contextTimeout(30 * time.Second)
	newDC, err := b.WaitLeader(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, target, 30*time.Second)
	c1 := count()
	t.Logf("new DC %s; starts after: %v", newDC, c1)
	for _, n := range others(b, dcName) {
		d := counts{c1[n.Name].unit - c0[n.Name].unit, c1[n.Name].hapStart - c0[n.Name].hapStart, c1[n.Name].vipStart - c0[n.Name].vipStart}
		want := counts{}
		if n == target {
			want = counts{1, 1, 1}
		}
		if d != want {
			t.Errorf("%s: started (systemd haproxy, executor haproxy, executor vip) %v times, want %v", n.Name, d, want)
		}
	}
	w.answersFrom(target.Name)
	w.phase("DC killed mid-move")

	back := powerOnRejoin(t, b, dc)
	t.Logf("%s powered on and rejoined in %v", dcName, back.Round(time.Millisecond))
	pcsOK(t, target, "resource", "clear", "web", "--wait=30s")
	if _, err := b.WaitWeb(target.Name, 5*time.Second); err != nil {
		t.Error(err)
	}
	w.phase("rejoin and clear")
}

// Scenario 10: every node's pacerd is stopped at once, then started
// again; then every node loses power at once and is powered on again.
// Each time the group comes back on exactly one node.
func TestScenarioFullRestart(t *testing.T) {
	b := Up(t, Options{})
	admin := b.Running()[0]
	on, err := b.SetupWeb(admin, WebOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	t.Logf("group on %s", on)
	w := watchWeb(t, b)
	each := func(fn func(n *Node) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, len(b.Nodes))
		for i, n := range b.Nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = fn(n)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	nowhere := func() error {
		for _, n := range b.Nodes {
			if slices.Contains(n.Addrs(), b.VIP(0)) || len(n.UnitPIDs("haproxy.service")) > 0 {
				return fmt.Errorf("web still (partly) on %s", n.Name)
			}
		}
		return nil
	}
	back := func(label string, t0 time.Time) {
		t.Helper()
		ctx, cancel := contextTimeout(60 * time.Second)
		dc, err := b.WaitLeader(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s", label, err, b.Logs())
		}
		now, err := b.WaitWeb("", 60*time.Second)
		if err != nil {
			t.Fatalf("%s: %v\n%s", label, err, b.Logs())
		}
		t.Logf("%s: DC %s, group on %s %v after the start", label, dc, now, time.Since(t0).Round(time.Millisecond))
		time.Sleep(2 * time.Second)
		if again, err := b.RunningWeb(); err != nil || again != now {
			t.Errorf("%s: 2 s later: %s, %v", label, again, err)
		}
		w.answersFrom(now)
		w.phase(label)
	}

	t0 := time.Now()
	each(func(n *Node) error { _, err := n.Exec("systemctl", "stop", "pacerd"); return err })
	t.Logf("pacerd stopped on every node in %v", time.Since(t0).Round(time.Millisecond))
	if err := nowhere(); err != nil {
		t.Errorf("after every pacerd stopped: %v", err)
	}
	t0 = time.Now()
	each(func(n *Node) error { _, err := n.Exec("systemctl", "start", "pacerd"); return err })
	back("pacerd restarted everywhere", t0)

	inc := incarnations(b)
	each(func(n *Node) error { return n.Destroy() })
	if err := nowhere(); err != nil {
		t.Errorf("after the power cut: %v", err)
	}
	t0 = time.Now()
	each(func(n *Node) error {
		if err := n.PowerOn(); err != nil {
			return err
		}
		return n.WaitReady(30 * time.Second)
	})
	back("power cut everywhere", t0)
	now := incarnations(b)
	for _, n := range b.Nodes {
		if now[n.Name] == inc[n.Name] || now[n.Name] == 0 {
			t.Errorf("%s: init %d before the power cut, %d after", n.Name, inc[n.Name], now[n.Name])
		}
	}
	// A node fenced while the cluster came back would show as a second
	// change of its init.
	time.Sleep(time.Second)
	if again := incarnations(b); !maps.Equal(again, now) {
		t.Errorf("a node was fenced after the restart: init PIDs %v, then %v", now, again)
	}
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// waitIdle waits until the DC, asked through n, has nothing left to do.
func waitIdle(t *testing.T, n *Node, timeout time.Duration) {
	t.Helper()
	last := ""
	waitCond(t, "the DC idle", timeout, func() bool {
		cl, err := n.API()
		if err != nil {
			last = err.Error()
			return false
		}
		defer cl.Close()
		ctx, cancel := contextTimeout(2 * time.Second)
		defer cancel()
		st, err := cl.DC(ctx)
		if err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("%+v", *st)
		return st.Idle
	}, func() string { return last })
}
