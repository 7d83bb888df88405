package controller

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/resources"
)

// memStore is the CIB without Raft: commands go through store.Next, the
// same function the FSM applies.
type memStore struct {
	mu   sync.Mutex
	cib  *cib.CIB
	idx  uint64
	subs []chan struct{}
}

func (m *memStore) Read() (*cib.CIB, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cib, m.idx
}

func (m *memStore) Apply(_ context.Context, cmd store.Command) (store.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := store.Next(m.cib, cmd)
	if err != nil {
		return store.Result{}, err
	}
	m.cib = next
	m.idx++
	for _, ch := range m.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return store.Result{Version: next.Version, Index: m.idx}, nil
}

func (m *memStore) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	m.mu.Lock()
	m.subs = append(m.subs, ch)
	m.mu.Unlock()
	return ch, func() {}
}

// world is the fake cluster: which resources run where, which nodes are
// up, which were fenced. It fails the test if a resource ever runs on two
// nodes of which neither was fenced.
type world struct {
	t       *testing.T
	mu      sync.Mutex
	alive   map[string]bool
	boots   map[string]string          // node -> run of its daemon
	running map[string]map[string]bool // node -> resource -> running
	fenced  []string
	log     []string
}

func (w *world) Alive() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]bool{}
	for k, v := range w.alive {
		out[k] = v
	}
	return out
}

func (w *world) Boots() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for k, v := range w.boots {
		out[k] = v
	}
	return out
}

// restart is a node's daemon starting again under a new boot: its
// executor, and whatever it ran, are gone; gossip never saw it leave.
func (w *world) restart(node, boot string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.boots == nil {
		w.boots = map[string]string{}
	}
	w.boots[node] = boot
	w.running[node] = nil
}

func (w *world) Execute(_ context.Context, node string, a resources.Action) (cib.OpRecord, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.alive[node] {
		return cib.OpRecord{}, fmt.Errorf("node %s unreachable", node)
	}
	if w.running[node] == nil {
		w.running[node] = map[string]bool{}
	}
	rc := 0
	switch a.Op {
	case "start":
		w.running[node][a.Primitive.ID] = true
		w.checkSafety(a.Primitive.ID)
	case "stop":
		delete(w.running[node], a.Primitive.ID)
	case "monitor":
		if !w.running[node][a.Primitive.ID] {
			rc = 7
		}
	}
	w.log = append(w.log, fmt.Sprintf("%s:%s:%s", a.Op, a.Primitive.ID, node))
	id := a.Primitive.ID + "_last_0"
	if a.Interval > 0 {
		id = fmt.Sprintf("%s_monitor_%d", a.Primitive.ID, a.Interval.Milliseconds())
	}
	return cib.OpRecord{ID: id, Operation: a.Op, IntervalMS: a.Interval.Milliseconds(), RC: rc, CallID: int64(len(w.log))}, nil
}

func (w *world) checkSafety(rsc string) {
	var on []string
	for n, rs := range w.running {
		if rs[rsc] {
			on = append(on, n)
		}
	}
	if len(on) > 1 {
		w.t.Errorf("SAFETY: %s active on %v at once", rsc, on)
	}
}

func (w *world) Recur(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error) {
	return w.Execute(ctx, node, a)
}

func (w *world) Cancel(context.Context, string, string, string, time.Duration) error { return nil }

func (w *world) Fence(_ context.Context, node string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fenced = append(w.fenced, node)
	w.alive[node] = false
	w.running[node] = nil // fencing kills everything on it
	w.log = append(w.log, "fence:"+node)
	return nil
}

// count is how many times an entry ("start:web:n1") is in the log.
func (w *world) count(entry string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.log {
		if l == entry {
			n++
		}
	}
	return n
}

func (w *world) logCopy() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.log...)
}

// where returns the node(s) running rsc.
func (w *world) where(rsc string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var on []string
	for n, rs := range w.running {
		if rs[rsc] {
			on = append(on, n)
		}
	}
	sort.Strings(on)
	return on
}

func setup(t *testing.T, stonith bool) (*memStore, *world, context.CancelFunc, *Controller) {
	st := &memStore{cib: cib.New()}
	w := &world{t: t, alive: map[string]bool{"n1": true, "n2": true, "n3": true}, running: map[string]map[string]bool{}}
	ctx := context.Background()
	cmds := []store.Command{&store.AddNode{Name: "n1"}, &store.AddNode{Name: "n2"}, &store.AddNode{Name: "n3"},
		&store.SetProperty{Name: "stonith-enabled", Value: fmt.Sprint(stonith)}}
	for _, id := range []string{"vip", "web"} {
		cmds = append(cmds, &store.CreateResource{Group: "g", Primitive: cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy",
			Ops: []cib.Op{{Name: "monitor", Interval: "10s"}}}})
	}
	if stonith {
		cmds = append(cmds, &store.CreateResource{Primitive: cib.Primitive{ID: "fence", Class: "stonith", Type: "fence_xvm"}})
	}
	for _, c := range cmds {
		if _, err := st.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Config{Store: st, Runner: w, Fencer: w, Members: w, Recheck: time.Hour})
	runCtx, cancel := context.WithCancel(ctx)
	go c.Run(runCtx)
	return st, w, cancel, c
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func on(w *world, rsc string) string {
	n := w.where(rsc)
	if len(n) != 1 {
		return fmt.Sprint(n)
	}
	return n[0]
}

func TestPlacesGroupAndMovesOnStandby(t *testing.T) {
	st, w, cancel, _ := setup(t, false)
	defer cancel()
	eventually(t, "group started on one node", func() bool { return len(w.where("vip")) == 1 && on(w, "web") == on(w, "vip") })
	first := on(w, "vip")
	if _, err := st.Apply(context.Background(), &store.SetNodeAttribute{Node: first, Name: "standby", Value: "on"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "group moved off the standby node", func() bool {
		n := on(w, "vip")
		return n != first && len(w.where("vip")) == 1 && on(w, "web") == n
	})
	// The CIB status says the same as the world.
	eventually(t, "CIB history shows the move", func() bool {
		x, _ := st.Read()
		h := x.Status.Nodes[on(w, "vip")].Resources["vip"]
		return h != nil && len(h.Ops) > 0
	})
}

// A lost node is fenced before its resources start elsewhere.
func TestNodeLossFencesThenRecovers(t *testing.T) {
	_, w, cancel, c := setup(t, true)
	defer cancel()
	eventually(t, "group started", func() bool { return len(w.where("web")) == 1 })
	victim := on(w, "web")
	w.mu.Lock()
	w.alive[victim] = false // it vanishes from gossip, still running its copy
	w.mu.Unlock()
	c.Kick()
	eventually(t, "group recovered elsewhere", func() bool {
		n := w.where("web")
		return len(n) == 1 && n[0] != victim
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	fencedAt, startedAt := -1, -1
	for i, l := range w.log {
		if l == "fence:"+victim && fencedAt < 0 {
			fencedAt = i
		}
		if len(l) > 10 && l[:10] == "start:web:" && l != "start:web:"+victim && fencedAt >= 0 && startedAt < 0 {
			startedAt = i
		}
	}
	if fencedAt < 0 || startedAt < fencedAt {
		t.Fatalf("want fence of %s before web started elsewhere; log %v", victim, w.log)
	}
}

// A node whose daemon restarts faster than gossip notices comes back
// under a new boot with nothing running: the DC clears its history and
// probes it before anything else, so the group is started again (once),
// no one is fenced, and the node's own late announcement of the restart
// does not wipe what the DC recorded since.
func TestRestartedNodeIsClearedOncePerBoot(t *testing.T) {
	st, w, cancel, c := setup(t, true)
	defer cancel()
	w.mu.Lock()
	w.boots = map[string]string{"n1": "a1", "n2": "a2", "n3": "a3"}
	w.mu.Unlock()
	c.Kick()
	eventually(t, "group started", func() bool { return len(w.where("web")) == 1 && on(w, "vip") == on(w, "web") })
	eventually(t, "every run on record", func() bool {
		x, _ := st.Read()
		for n, b := range map[string]string{"n1": "a1", "n2": "a2", "n3": "a3"} {
			if ns := x.Status.Nodes[n]; ns == nil || ns.Boot != b {
				return false
			}
		}
		return true
	})
	victim := on(w, "web")
	w.restart(victim, "b1")
	c.Kick()
	eventually(t, "group running again", func() bool { return len(w.where("web")) == 1 && on(w, "vip") == on(w, "web") })
	eventually(t, "the new run on record", func() bool {
		x, _ := st.Read()
		return x.Status.Nodes[victim].Boot == "b1"
	})
	w.mu.Lock()
	fenced := append([]string(nil), w.fenced...)
	w.mu.Unlock()
	if len(fenced) != 0 {
		t.Errorf("a node that restarted while alive was fenced: %v", fenced)
	}
	x, _ := st.Read()
	where := on(w, "web")
	before := len(x.Status.Nodes[where].Resources)
	if _, err := st.Apply(context.Background(), &store.ClearNodeHistory{Node: where, Boot: x.Status.Nodes[where].Boot}); err != nil {
		t.Fatal(err)
	}
	x, _ = st.Read()
	if got := len(x.Status.Nodes[where].Resources); got != before || got == 0 {
		t.Errorf("a repeated announcement of %s's run changed its history: %d resources, was %d", where, got, before)
	}
	starts := w.count("start:web:" + where)
	if where == victim && starts != 2 || where != victim && starts != 1 {
		t.Errorf("web started %d times on %s; log %v", starts, where, w.logCopy())
	}
}
