package daemon

import (
	"fmt"
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/membership"
	"pacer/resources"
)

func TestMemberChanges(t *testing.T) {
	m := func(name string, st membership.State) membership.Member {
		return membership.Member{Meta: membership.Meta{Name: name}, State: st}
	}
	w := membership.Member{Meta: membership.Meta{Name: "witness", Role: membership.RoleWitness}, State: membership.StateAlive}
	prev, ch := memberChanges(nil, []membership.Member{m("n1", membership.StateAlive), m("n2", membership.StateAlive), w})
	if len(ch) != 0 {
		t.Fatalf("the first look is a baseline, not news: %v", ch)
	}
	prev, ch = memberChanges(prev, []membership.Member{m("n1", membership.StateAlive), m("n2", membership.StateSuspect), m("n3", membership.StateAlive), w})
	if fmt.Sprint(ch) != "[{n3 member}]" {
		t.Errorf("a suspect is still a member, a newcomer joins: %v", ch)
	}
	prev, ch = memberChanges(prev, []membership.Member{m("n1", membership.StateAlive), m("n2", membership.StateDead), m("n3", membership.StateAlive)})
	if fmt.Sprint(ch) != "[{n2 lost}]" {
		t.Errorf("dead is lost; a witness is ignored: %v", ch)
	}
	_, ch = memberChanges(prev, []membership.Member{m("n1", membership.StateAlive), m("n2", membership.StateAlive)})
	if fmt.Sprint(ch) != "[{n2 member} {n3 lost}]" {
		t.Errorf("back, and gone from the list: %v", ch)
	}
}

func TestFenceChanges(t *testing.T) {
	start := time.Unix(1000, 0)
	old := cib.FenceEvent{Target: "n2", Action: "reboot", Device: "f", Executor: "n1", Origin: "dc", Result: "ok", Completion: start.Add(-time.Minute)}
	seen, ops := fenceChanges(nil, []cib.FenceEvent{old}, start)
	if len(ops) != 0 {
		t.Fatal("baseline")
	}
	a1 := cib.FenceEvent{Target: "n3", Action: "off", Device: "f1", Executor: "n1", Origin: "pcsctl", Result: "timeout", Error: "no answer", Completion: start.Add(time.Second)}
	a2 := a1
	a2.Device, a2.Result, a2.Error = "f2", "ok", ""
	stale := old
	stale.Start = start.Add(-2 * time.Minute) // replayed after a restart: history, not news
	seen, ops = fenceChanges(seen, []cib.FenceEvent{old, stale, a1, a2}, start)
	if len(ops) != 1 || len(ops[0].attempts) != 2 || ops[0].result() != "ok" {
		t.Fatalf("ops %+v", ops)
	}
	ev := ops[0].alert()
	if ev.Kind != "fencing" || ev.Node != "n3" || ev.Task != "st_notify_fence" || ev.RC != 0 || ev.Desc != "Operation off of n3 by n1 for pcsctl@n1: OK" {
		t.Errorf("alert %+v", ev)
	}
	failed := fenceOp{target: "n2", action: "reboot", executor: "n1", origin: "dc", attempts: []cib.FenceEvent{a1}}
	if ev := failed.alert(); ev.RC != 1 || ev.Desc != "Operation reboot of n2 by n1 for dc@n1: Timed Out (no answer)" {
		t.Errorf("failed alert %+v", ev)
	}
	if _, ops = fenceChanges(seen, []cib.FenceEvent{old, stale, a1, a2}, start); len(ops) != 0 {
		t.Errorf("seen again: %v", ops)
	}
}

func TestResourceAlert(t *testing.T) {
	ev := func(op string, interval int64, rc, status int) resources.Event {
		return resources.Event{Resource: "web", Node: "n1", Source: "operation", Record: cib.OpRecord{Operation: op, IntervalMS: interval, RC: rc, OpStatus: status, ExecTimeMS: 12}}
	}
	a, ok := resourceAlert(ev("start", 0, 0, 0), true)
	if !ok || a.Kind != "resource" || a.Resource != "web" || a.Node != "n1" || a.Task != "start" || a.TargetRC != 0 || a.Desc != "OK" || a.ExecTimeMS != 12 {
		t.Errorf("start: %+v %v", a, ok)
	}
	if _, ok := resourceAlert(ev("monitor", 0, 7, 0), true); ok {
		t.Error("a probe finding the expected 'not running' is not news")
	}
	if a, ok := resourceAlert(ev("monitor", 0, 0, 0), true); !ok || a.TargetRC != 7 {
		t.Errorf("a probe finding it running is: %+v", a)
	}
	if _, ok := resourceAlert(ev("monitor", 10000, 0, 0), false); ok {
		t.Error("a recurring monitor repeating itself is not news")
	}
	if a, ok := resourceAlert(ev("monitor", 10000, 7, 0), true); !ok || a.Desc != "Not running" || a.IntervalMS != 10000 {
		t.Errorf("a monitor failing: %+v", a)
	}
	if a, _ := resourceAlert(ev("stop", 0, 1, 2), true); a.Desc != "Timed Out" || a.Status != 2 {
		t.Errorf("timeout: %+v", a)
	}
	p := ev("monitor", 0, 0, 0)
	p.Source = "probe"
	if _, ok := resourceAlert(p, true); ok {
		t.Error("a batch probe answers a tool, not the cluster")
	}
}

func TestAttrChanges(t *testing.T) {
	prev, ch := attrChanges(nil, map[string]string{"standby": "off"})
	if len(ch) != 0 {
		t.Fatal("baseline")
	}
	_, ch = attrChanges(prev, map[string]string{"standby": "on", "fail-count-web#start_0": "1"})
	if fmt.Sprint(ch) != "[{fail-count-web#start_0 1} {standby on}]" {
		t.Errorf("changes %v", ch)
	}
	_, ch = attrChanges(prev, map[string]string{})
	if fmt.Sprint(ch) != "[{standby }]" {
		t.Errorf("removal %v", ch)
	}
}
