package controller

import (
	"context"
	"testing"
	"time"

	"pacer/crm/store"
)

// A DC that dies between running an action and recording it leaves a
// CIB that says less than the truth. The next DC probes everything
// before it schedules, so it does not start again what already runs.
func TestNewDCProbesBeforeItStartsAgain(t *testing.T) {
	st, w, cancel, c1 := setup(t, false)
	eventually(t, "group started", func() bool { return len(w.where("web")) == 1 && on(w, "vip") == on(w, "web") })
	eventually(t, "first DC idle", func() bool { return c1.State().Idle })
	cancel()
	time.Sleep(20 * time.Millisecond)

	// The move the first DC was running: only one node is left for the
	// group, and it had already stopped the group and started vip
	// there, with none of it recorded.
	from := on(w, "vip")
	var to string
	for _, n := range []string{"n1", "n2", "n3"} {
		if n == from {
			continue
		}
		if to == "" {
			to = n
			continue
		}
		if _, err := st.Apply(context.Background(), &store.SetNodeAttribute{Node: n, Name: "standby", Value: "on"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Apply(context.Background(), &store.SetNodeAttribute{Node: from, Name: "standby", Value: "on"}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	delete(w.running[from], "web")
	delete(w.running[from], "vip")
	if w.running[to] == nil {
		w.running[to] = map[string]bool{}
	}
	w.running[to]["vip"] = true
	w.log = append(w.log, "start:vip:"+to)
	w.mu.Unlock()

	c2 := New(Config{Store: st, Runner: w, Fencer: w, Members: w, Recheck: time.Hour})
	ctx, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go c2.Run(ctx)
	eventually(t, "group on "+to, func() bool { return on(w, "vip") == to && on(w, "web") == to })
	eventually(t, "second DC idle", func() bool { return c2.State().Idle })
	if starts := w.count("start:vip:" + to); starts != 1 {
		t.Errorf("vip started %d times on %s; log %v", starts, to, w.logCopy())
	}
}
