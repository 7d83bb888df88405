package daemon

import (
	"context"
	"strconv"
	"time"

	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/resources"
)

// quorumLossAfter is how long a node may be without a leader before it
// applies no-quorum-policy to its own resources: long enough to ride out
// an election (about 0.6 s with the fast Raft profile), short enough that
// the majority, which fences or waits before recovering, is not kept
// waiting.
const quorumLossAfter = 2 * time.Second

// quorumLoop watches for loss of the leader. A node cut off from the
// majority cannot know whether its resources are being recovered
// elsewhere, so it applies no-quorum-policy from its last copy of the
// CIB: stop (the default) stops everything it runs, freeze and ignore
// keep it. When it hears from a leader again it clears its history so the
// DC probes it afresh.
func (d *Daemon) quorumLoop() {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var lostSince time.Time
	applied := false
	for {
		select {
		case <-d.done:
			return
		case <-tick.C:
		}
		leader, _ := d.st.Leader()
		now := d.clock()
		if leader != "" {
			if applied && !d.cfg.Witness {
				d.log.Info("quorum is back: asking the DC to probe this node afresh")
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := d.applyAnywhere(ctx, &store.ClearNodeHistory{Node: d.cfg.NodeName}); err == nil {
					applied = false
				}
				cancel()
			}
			lostSince = time.Time{}
			continue
		}
		if lostSince.IsZero() {
			lostSince = now
		}
		if cur, _ := d.st.Read(); d.twoNodeOn(cur) {
			// A two-node survivor keeps its resources: it fences its
			// peer and takes over (twoNodeLoop), or waits to be fenced.
			continue
		}
		if applied || now.Sub(lostSince) < quorumLossAfter {
			continue
		}
		applied = true
		cur, _ := d.st.Read()
		policy := cur.Config.Property("no-quorum-policy")
		active := d.exec.Active()
		d.log.Warn("no quorum: applying no-quorum-policy to this node's resources", "policy", policy, "resources", active, "without_leader", now.Sub(lostSince).Round(time.Millisecond))
		switch policy {
		case "stop", "suicide":
			d.stopAll(cur, active)
		}
		if policy == "suicide" {
			// pacerd cannot power its host off; the nearest safe thing is
			// to stop every resource (above) and leave the cluster.
			d.log.Error("no-quorum-policy=suicide: resources stopped, pacerd exits")
			d.requestShutdown("no-quorum-policy=suicide")
		}
	}
}

// stopAll stops resources in reverse of their configuration order (a
// group's last member first), each with its stop timeout.
func (d *Daemon) stopAll(cur *cib.CIB, ids []string) {
	prims := cur.Config.Primitives()
	running := map[string]bool{}
	for _, id := range ids {
		running[id] = true
	}
	for i := len(prims) - 1; i >= 0; i-- {
		p := prims[i]
		if !running[p.ID] {
			continue
		}
		d.exec.CancelAll(p.ID)
		timeout := p.OpTimeout("stop", 0, 20*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Second)
		rec, err := d.exec.Execute(ctx, resources.Action{Primitive: *p, Op: "stop", Timeout: timeout})
		cancel()
		d.log.Warn("stopped for lack of quorum", "rsc", p.ID, "rc", rec.RC, "err", err)
	}
}

// drainTimeout bounds how long a stopping node waits for the DC to move
// its resources away.
const drainTimeout = 60 * time.Second

// drain empties this node before it stops, as Pacemaker's shutdown does:
// it marks itself shutting down (a transient attribute the scheduler
// reads), waits for the DC to stop its resources here and start them
// elsewhere, and stops what is left itself if that cannot happen (no
// quorum, or the time is up), so nothing keeps running unmanaged.
func (d *Daemon) drain() {
	idle := len(d.exec.Active()) == 0
	if leader, _ := d.st.Leader(); idle && (leader == "" || d.cfg.Witness) {
		return
	}
	// A node that runs nothing marks itself too: without the mark the DC
	// takes its departure from gossip for a loss and fences it.
	//
	// The restart record clears transient attributes, the shutdown mark
	// among them: let it land first, or the DC would place resources
	// back here.
	select {
	case <-d.announced:
	case <-time.After(5 * time.Second):
	}
	cur, _ := d.st.Read()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := d.applyAnywhere(ctx, &store.SetTransientAttr{Node: d.cfg.NodeName, Name: "shutdown", Value: strconv.FormatInt(d.clock().Unix(), 10)})
	cancel()
	if err != nil && idle {
		d.log.Warn("cannot tell the DC that this node is leaving; it may fence it", "err", err)
		return
	}
	if err != nil {
		d.log.Warn("cannot ask the DC to move this node's resources; stopping them here", "err", err)
		d.stopAll(cur, d.exec.Active())
		return
	}
	if idle {
		return
	}
	d.log.Info("shutting down: waiting for the DC to move this node's resources", "resources", d.exec.Active())
	deadline := time.Now().Add(drainTimeout)
	for len(d.exec.Active()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if left := d.exec.Active(); len(left) > 0 {
		d.log.Warn("resources still here after the drain timeout; stopping them", "resources", left)
		cur, _ = d.st.Read()
		d.stopAll(cur, left)
	}
}
