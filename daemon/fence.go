package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/stonith"
	"pacer/stonith/devices"
	"pacer/stonith/external"
	"pacer/stonith/fencer"
)

// dcFencer is the controller's way to fence: the DC's fencer, with every
// attempt written to the fence history and a confirmed fence to the
// node's state (which is what lets its resources start elsewhere).
type dcFencer struct{ d *Daemon }

// Fence powers node off. With stonith-action reboot (the default) it is
// powered on again afterwards, in the background: recovery needs only the
// off, and a device's own reboot answers when the node runs again
// (fence_virtd destroys a domain in 0.2 s, then takes about a second to
// start it), all of which the group would wait for. Pacemaker's fencer
// splits a reboot into off and on the same way for devices and levels
// that cannot reboot in one step.
func (f dcFencer) Fence(ctx context.Context, node string) error {
	if _, err := f.d.fence(ctx, node, stonith.ActionOff, "dc"); err != nil {
		return err
	}
	cur, _ := f.d.st.Read()
	f.d.powerOnLater(cur, node, "dc")
	return nil
}

// powerOnLater ends a reboot that was carried out as off-then-on: unless
// stonith-action is off, the fenced node is powered on again in the
// background (recorded in the fence history), bounded by two minutes and
// by the daemon's life.
func (d *Daemon) powerOnLater(cur *cib.CIB, node, origin string) {
	if offOnly(cur) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		go func() {
			select {
			case <-d.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		if _, err := d.fence(ctx, node, stonith.ActionOn, origin); err != nil {
			d.log.Warn("fenced node not powered on again; it stays off", "target", node, "err", err)
		}
	}()
}

func (d *Daemon) fence(ctx context.Context, node string, action stonith.Action, origin string) (*api.FenceResponse, error) {
	cur, _ := d.st.Read()
	if action == stonith.ActionReboot && offOnly(cur) {
		action = stonith.ActionOff
	}
	events, err := d.fencer.Fence(ctx, cur, node, action, origin)
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cmds []store.Command
	if len(events) > 0 {
		cmds = append(cmds, &store.RecordFenceAttempt{Events: events})
	}
	// Powering a node on confirms nothing about it being down: only off
	// and reboot let its resources be recovered elsewhere.
	if err == nil && action != stonith.ActionOn {
		d.markFenced(node)
		cmds = append(cmds, &store.RecordFence{Node: node, At: d.clock()})
	}
	if len(cmds) > 0 {
		b, berr := store.NewBatch(cmds...)
		if berr == nil {
			if _, werr := d.st.Apply(rctx, b); werr != nil {
				d.log.Error("could not record the fencing", "target", node, "err", werr)
			}
		}
	}
	return &api.FenceResponse{Target: node, Action: string(action), Attempts: events}, err
}

// handleFence runs 'pcsctl stonith fence': on the DC, which holds the
// devices and records the result; any other node passes it on.
func (d *Daemon) handleFence(w http.ResponseWriter, r *http.Request) {
	var req api.FenceRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	action, err := stonith.ParseAction(req.Action)
	if err == nil {
		err = stonith.CheckFenceAction(action)
	}
	if err != nil || req.Node == "" {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("fence: give a node and an action off, on or reboot (%v)", err)})
		return
	}
	if req.Node == d.cfg.NodeName && d.st.IsLeader() {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: "the DC does not fence itself: run this on another node, or move the DC first"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	if !d.st.IsLeader() {
		var resp api.FenceResponse
		d.relayToDC(ctx, w, r, "/v1/fence", req, &resp)
		return
	}
	resp, err := d.fence(ctx, req.Node, action, "pcsctl")
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeUnavailable, Message: err.Error()})
		return
	}
	writeJSON(w, resp)
}

func newFencer(d *Daemon) *fencer.Fencer {
	cfg := fencer.Config{Node: d.cfg.NodeName, Clock: d.clock, Logger: d.log.With("sub", "fencer")}
	if len(d.cfg.FenceAgentDirs) > 0 {
		dirs := append(append([]string{}, d.cfg.FenceAgentDirs...), external.DefaultDirs()...)
		cfg.Open = func(ctx context.Context, agent string, params map[string]string) (*devices.Spec, error) {
			return devices.Open(ctx, agent, params, dirs...)
		}
	}
	return fencer.New(cfg)
}

// handleVerify runs 'pcsctl stonith verify' on the DC.
func (d *Daemon) handleVerify(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	if !d.st.IsLeader() {
		var out []fencer.Check
		d.relayToDC(ctx, w, r, "/v1/stonith/verify", nil, &out)
		return
	}
	cur, _ := d.st.Read()
	writeJSON(w, d.fencer.Verify(ctx, cur))
}

// MonitorDevice checks a fencing device for the DC's monitors.
func (f dcFencer) MonitorDevice(ctx context.Context, p *cib.Primitive) error {
	return f.d.fencer.Monitor(ctx, p)
}

// relayToDC passes a request that only the DC can answer to it, and its
// answer back. A relayed request is never relayed again.
func (d *Daemon) relayToDC(ctx context.Context, w http.ResponseWriter, r *http.Request, path string, in, out any) {
	if r.Header.Get(api.HeaderForwarded) != "" {
		writeErr(w, &api.Error{Code: api.CodeNotLeader, Message: d.cfg.NodeName + " is not the DC; retry"})
		return
	}
	c, err := d.leaderClient()
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := c.Do(ctx, http.MethodPost, path, in, out); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, out)
}

// markFenced notes a confirmed fence (see Daemon.fenced).
func (d *Daemon) markFenced(node string) {
	d.mu.Lock()
	d.fenced[node] = d.clock()
	d.mu.Unlock()
}

// offOnly says whether stonith-action asks fencing to leave nodes off
// (off or its alias poweroff) rather than reboot them.
func offOnly(cur *cib.CIB) bool {
	a, _ := stonith.ParseAction(cur.Config.Property("stonith-action"))
	return a == stonith.ActionOff
}
