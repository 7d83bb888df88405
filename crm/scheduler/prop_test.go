package scheduler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"pacer/crm/cib"
)

// genCluster draws a random cluster in the supported subset: node states
// of every kind, fencing on or off, quorum or not, primitives, groups and
// a clone, random histories (running, failed, multiply active) and random
// constraints. Everything is drawn through rapid, so failures shrink.
func genCluster(t *rapid.T) *cl {
	nNodes := rapid.IntRange(1, 5).Draw(t, "nodes")
	var names []string
	for i := 0; i < nNodes; i++ {
		names = append(names, fmt.Sprintf("n%d", i+1))
	}
	x := cluster(names...)
	if rapid.Bool().Draw(t, "stonith") {
		x.fencing()
		if rapid.IntRange(0, 9).Draw(t, "no-device") == 0 {
			x.c.Config.Resources = nil
		}
	}
	x.quorum = rapid.IntRange(0, 3).Draw(t, "no-quorum") != 0
	x.prop("no-quorum-policy", rapid.SampledFrom([]string{"stop", "freeze", "ignore"}).Draw(t, "policy"))
	if rapid.IntRange(0, 4).Draw(t, "asym") == 0 {
		x.prop("symmetric-cluster", "false")
	}
	if rapid.Bool().Draw(t, "sticky") {
		x.defaults("resource-stickiness", rapid.SampledFrom([]string{"1", "100", "INFINITY"}).Draw(t, "stickiness"))
	}
	for _, n := range names {
		switch rapid.IntRange(0, 9).Draw(t, "state-"+n) {
		case 0:
			x.lost(n)
		case 1:
			x.left(n)
		case 2:
			x.unseen(n)
		case 3:
			x.standby(n)
		case 4:
			x.nodeAttr(n, "maintenance", "true")
		case 5:
			x.c.Status.Nodes[n].Join = "pending"
		}
		x.nodeAttr(n, "rack", rapid.SampledFrom([]string{"a", "b"}).Draw(t, "rack-"+n))
	}
	var ids []string // primitives and groups constraints may name
	nRes := rapid.IntRange(1, 6).Draw(t, "resources")
	for i := 0; i < nRes; i++ {
		switch rapid.IntRange(0, 5).Draw(t, "kind") {
		case 0, 1:
			gid := fmt.Sprintf("g%d", i)
			k := rapid.IntRange(1, 3).Draw(t, "members")
			var ms []string
			for j := 0; j < k; j++ {
				ms = append(ms, fmt.Sprintf("g%dm%d", i, j))
			}
			x.group(gid, ms)
			ids = append(ids, gid)
		case 2:
			if x.c.Config.Primitive("p") == nil {
				x.clone("c", "p", "clone-max", fmt.Sprint(rapid.IntRange(1, 4).Draw(t, "clone-max")))
				ids = append(ids, "c")
				continue
			}
			fallthrough
		default:
			id := fmt.Sprintf("r%d", i)
			x.prim(id)
			ids = append(ids, id)
		}
	}
	for _, p := range x.c.Config.Primitives() {
		if p.Class == "stonith" {
			if n := rapid.SampledFrom(names).Draw(t, "fence-node"); x.c.Status.Nodes[n] != nil {
				x.running(p.ID, n)
			}
			continue
		}
		for _, n := range names {
			if x.c.Status.Nodes[n] == nil {
				continue
			}
			switch rapid.IntRange(0, 7).Draw(t, "hist-"+p.ID+"-"+n) {
			case 0, 1:
				x.running(p.ID, n)
			case 2:
				x.running(p.ID, n).monitorFailed(p.ID, n, t0.Add(-time.Minute))
			case 3:
				x.failcount(p.ID, n, rapid.SampledFrom([]string{"1", "3", "INFINITY"}).Draw(t, "fc"), t0.Add(-time.Minute))
			case 4:
				x.probedStopped(p.ID, n)
			}
		}
		switch rapid.IntRange(0, 9).Draw(t, "meta-"+p.ID) {
		case 0:
			x.meta(p.ID, "target-role", "Stopped")
		case 1:
			x.meta(p.ID, "is-managed", "false")
		case 2:
			x.meta(p.ID, "migration-threshold", "3")
		}
	}
	scores := []string{"INFINITY", "-INFINITY", "100", "-100", "50"}
	nCons := rapid.IntRange(0, 6).Draw(t, "constraints")
	for i := 0; i < nCons && len(ids) > 0; i++ {
		a := rapid.SampledFrom(ids).Draw(t, "a")
		b := rapid.SampledFrom(ids).Draw(t, "b")
		sc := rapid.SampledFrom(scores).Draw(t, "score")
		switch rapid.IntRange(0, 3).Draw(t, "ckind") {
		case 0:
			x.loc(fmt.Sprintf("l%d", i), a, rapid.SampledFrom(names).Draw(t, "lnode"), sc)
		case 1:
			x.rule(fmt.Sprintf("l%d", i), a, sc, "", expr("rack", "eq", "a", ""))
		case 2:
			if a != b {
				x.coloc(fmt.Sprintf("c%d", i), a, b, sc)
			}
		case 3:
			if a != b {
				x.order(fmt.Sprintf("o%d", i), a, b, rapid.SampledFrom([]string{"Mandatory", "Optional"}).Draw(t, "okind"),
					rapid.Bool().Draw(t, "sym"))
			}
		}
	}
	return x
}

func TestPropertyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := genCluster(t)
		tr, err := Schedule(x.input())
		if err != nil {
			t.Fatalf("Schedule: %v", err)
		}
		checkInvariants(t, x.c, tr)
	})
}

func checkInvariants(t *rapid.T, c *cib.CIB, tr *Transition) {
	nodes := map[string]NodeState{}
	for _, n := range tr.Nodes {
		nodes[n.Name] = n
	}
	states := map[string]ResourceState{}
	for _, r := range tr.Resources {
		states[r.ID] = r
		if _, ok := tr.Placement[r.ID]; !ok {
			t.Fatalf("%s has no placement", r.ID)
		}
	}
	// A group's members are on one node or stopped.
	for _, r := range c.Config.Resources {
		if r.Group == nil {
			continue
		}
		where, managed := "", true
		for _, m := range r.Group.Members {
			managed = managed && states[m.ID].Managed
		}
		if !managed {
			continue
		}
		for _, m := range r.Group.Members {
			n := states[m.ID].Next
			if n == Stopped {
				continue
			}
			if where != "" && n != where {
				t.Fatalf("group %s split: %s on %s, another member on %s", r.Group.ID, m.ID, n, where)
			}
			where = n
		}
	}
	// Replay the steps: fencing first for anything on an unclean node,
	// nothing started on a node that cannot run resources, and nothing
	// started while it may still be active elsewhere.
	active := map[string]map[string]bool{}
	for _, r := range tr.Resources {
		active[r.ID] = map[string]bool{}
		for _, n := range r.Current {
			active[r.ID][n] = true
		}
	}
	fenced := map[string]bool{}
	starts := map[string]int{}
	for _, st := range tr.Steps {
		switch st.Kind {
		case StepFence:
			if !nodes[st.Node].Unclean {
				t.Fatalf("fencing clean node %s", st.Node)
			}
			fenced[st.Node] = true
			for _, set := range active {
				delete(set, st.Node)
			}
		case StepStop:
			if !active[st.Resource][st.Node] {
				t.Fatalf("%s: stopping %s where it is not active", st, st.Resource)
			}
			delete(active[st.Resource], st.Node)
		case StepStart:
			starts[st.Resource]++
			if starts[st.Resource] > 1 {
				t.Fatalf("%s started twice", st.Resource)
			}
			if !nodes[st.Node].CanRun() {
				t.Fatalf("%s: %s cannot run resources (%+v)", st, st.Node, nodes[st.Node])
			}
			for n := range active[st.Resource] {
				t.Fatalf("%s: still active on %s (fenced: %v)", st, n, fenced[n])
			}
			active[st.Resource][st.Node] = true
		}
	}
	// Placement agrees with the replay for everything the steps touched.
	for id, set := range active {
		if !states[id].Managed {
			continue
		}
		p := tr.Placement[id]
		if p == Stopped && len(set) > 0 {
			t.Fatalf("%s placed stopped but still active on %v", id, set)
		}
		if p != Stopped && !set[p] {
			t.Fatalf("%s placed on %s but the steps leave it on %v", id, p, set)
		}
	}
	for _, a := range tr.Actions {
		if a.Blocked {
			for _, st := range tr.Steps {
				if st.Resource == a.Resource && st.Kind == StepStart {
					t.Fatalf("blocked action %+v has a start step", a)
				}
			}
		}
	}
}

// TestPropertyDeterministic: the same input gives byte-identical output
// (Go randomizes map iteration, so this exercises every map walk).
func TestPropertyDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := genCluster(t)
		var outs [][]byte
		for i := 0; i < 3; i++ {
			tr, err := Schedule(x.input())
			if err != nil {
				t.Fatalf("Schedule: %v", err)
			}
			b, err := json.Marshal(tr)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			outs = append(outs, b)
		}
		if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[0], outs[2]) {
			t.Fatalf("different outputs:\n%s\n%s", outs[0], outs[1])
		}
	})
}

// TestPropertyInputUntouched: Schedule must not modify the CIB.
func TestPropertyInputUntouched(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := genCluster(t)
		before, _ := json.Marshal(x.c)
		if _, err := Schedule(x.input()); err != nil {
			t.Fatalf("Schedule: %v", err)
		}
		after, _ := json.Marshal(x.c)
		if !bytes.Equal(before, after) {
			t.Fatalf("CIB changed")
		}
	})
}
