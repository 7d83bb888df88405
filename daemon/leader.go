package daemon

import (
	"context"
	"sort"
	"time"

	"pacer/crm/controller"
	"pacer/crm/store"
	"pacer/membership"
)

// leaderLoop does the leader's housekeeping: it tracks who gossip says is
// gone, and while this node leads it keeps the CIB's node list and the
// Raft voter set in line with the live membership.
func (d *Daemon) leaderLoop() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	events := d.ml.Events()
	leaderCh, cancel := d.st.LeaderChanges()
	defer cancel()
	var ctrl *controller.Controller
	stopCtrl := func() {}
	defer func() { stopCtrl() }()
	for {
		// A new leader reconciles at once, so the CIB lists every node
		// before the first user command can name one.
		select {
		case <-d.done:
			return
		case ev := <-events:
			d.track(ev)
			if ctrl != nil {
				ctrl.Kick()
			}
		case <-leaderCh:
		case <-tick.C:
		}
		leading := d.st.IsLeader()
		if leading {
			d.reconcile()
		}
		switch {
		case leading && ctrl == nil:
			d.flushTwoNode()
			ctrl, stopCtrl = d.startController()
		case !leading && ctrl != nil:
			d.log.Info("no longer the DC: controller stopped")
			stopCtrl()
			ctrl, stopCtrl = nil, func() {}
		}
		d.ctrlMu.Lock()
		d.ctrl = ctrl
		d.ctrlMu.Unlock()
	}
}

func (d *Daemon) track(ev membership.Event) {
	d.changes.publish("members")
	d.mu.Lock()
	defer d.mu.Unlock()
	switch ev.Type {
	case membership.EventDown:
		if _, ok := d.goneSince[ev.Member.Name]; !ok {
			d.goneSince[ev.Member.Name] = ev.At
		}
		d.log.Info("node down", "peer", ev.Member.Name, "state", ev.Member.State.String())
	case membership.EventUp:
		delete(d.goneSince, ev.Member.Name)
		if at, ok := d.fenced[ev.Member.Name]; ok && !ev.At.Before(at) {
			delete(d.fenced, ev.Member.Name)
		}
		d.log.Info("node up", "peer", ev.Member.Name, "addr", ev.Member.Addr)
	case membership.EventSuspect:
		d.log.Info("node suspect", "peer", ev.Member.Name)
	}
}

// startController makes this node the DC until the returned stop is called.
func (d *Daemon) startController() (*controller.Controller, func()) {
	c := controller.New(controller.Config{
		Store:   d.st,
		Runner:  runner{d},
		Fencer:  dcFencer{d},
		Members: members{d},
		Clock:   d.clock,
		Logger:  d.log.With("sub", "dc"),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	d.log.Info("this node is the DC: controller started")
	return c, func() { cancel(); <-done }
}

// announceRestart clears this node's resource history once a leader is
// known: the executor starts empty, so the DC must probe afresh instead
// of trusting records from before the restart.
func (d *Daemon) announceRestart() {
	for {
		select {
		case <-d.done:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if id, _ := d.st.Leader(); id == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := d.applyAnywhere(ctx, &store.ClearNodeHistory{Node: d.cfg.NodeName, Boot: d.boot})
		cancel()
		if err == nil {
			close(d.announced)
			return
		}
		d.log.Debug("clear own history", "err", err)
	}
}

// reconcile runs on the leader only. Each step is idempotent, so a new
// leader simply repeats it.
func (d *Daemon) reconcile() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cur, _ := d.st.Read()
	members := d.ml.Members()
	known := map[string]bool{}
	for _, n := range cur.Config.Nodes {
		known[n.Name] = true
	}
	var names []string
	for _, p := range d.cfg.Peers {
		if !p.Witness {
			names = append(names, p.Name)
		}
	}
	alive := map[string]string{}
	for _, m := range members {
		if m.State == membership.StateAlive {
			alive[m.Name] = m.RaftAddr
			if m.Role != "witness" {
				names = append(names, m.Name)
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if known[n] {
			continue
		}
		known[n] = true
		if _, err := d.st.Apply(ctx, &store.AddNode{Name: n}); err != nil {
			d.log.Warn("add node to CIB", "peer", n, "err", err)
		}
	}
	servers, err := d.st.Servers()
	if err != nil {
		return
	}
	d.mu.Lock()
	gone := make(map[string]time.Time, len(d.goneSince))
	for k, v := range d.goneSince {
		gone[k] = v
	}
	d.mu.Unlock()
	leaderID, _ := d.st.Leader()
	changes := store.PlanVoters(servers, alive, gone, d.clock(), d.cfg.VoterReplaceAfter.Duration, leaderID)
	if len(changes) == 0 {
		return
	}
	d.log.Info("changing Raft voters", "changes", changes)
	if err := d.st.ApplyVoterChanges(changes); err != nil {
		d.log.Warn("voter change failed", "err", err)
	}
}
