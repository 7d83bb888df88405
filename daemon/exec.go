package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/membership"
	"pacer/resources"
)

// The executor's API: the DC runs actions on a node through these.

func (d *Daemon) handleExec(w http.ResponseWriter, r *http.Request) {
	var req api.ExecRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	// The operation outlives its caller: when the DC dies, the connection
	// closes, and a start cut short there would leave the unit half
	// started for the next DC. The action's own timeout bounds it; the
	// next DC's probe waits for it and learns the outcome.
	rec, err := d.exec.Execute(context.WithoutCancel(r.Context()), req.Action)
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: err.Error()})
		return
	}
	writeJSON(w, rec)
}

func (d *Daemon) handleRecur(w http.ResponseWriter, r *http.Request) {
	var req api.ExecRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	rec, err := d.exec.Recur(r.Context(), req.Action)
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: err.Error()})
		return
	}
	writeJSON(w, rec)
}

func (d *Daemon) handleCancel(w http.ResponseWriter, r *http.Request) {
	var req api.CancelRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	d.exec.Cancel(req.Resource, req.Op, time.Duration(req.IntervalMS)*time.Millisecond)
	writeJSON(w, map[string]bool{"ok": true})
}

// runner is the DC's way to the executors: this node's directly, the
// others' over the TLS API.
type runner struct{ d *Daemon }

func (r runner) client(node string) (*api.Client, error) {
	addr := ""
	for _, m := range r.d.ml.Members() {
		if m.Name == node {
			addr = m.APIAddr
		}
	}
	if addr == "" {
		return nil, fmt.Errorf("node %s: no API address known (not in gossip)", node)
	}
	return r.d.peerClient(addr), nil
}

func (r runner) Execute(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error) {
	if node == r.d.cfg.NodeName {
		return r.d.exec.Execute(ctx, a)
	}
	c, err := r.client(node)
	if err != nil {
		return cib.OpRecord{}, err
	}
	return c.Execute(ctx, a)
}

func (r runner) Recur(ctx context.Context, node string, a resources.Action) (cib.OpRecord, error) {
	if node == r.d.cfg.NodeName {
		return r.d.exec.Recur(ctx, a)
	}
	c, err := r.client(node)
	if err != nil {
		return cib.OpRecord{}, err
	}
	return c.Recur(ctx, a)
}

func (r runner) Cancel(ctx context.Context, node, rsc, op string, interval time.Duration) error {
	if node == r.d.cfg.NodeName {
		r.d.exec.Cancel(rsc, op, interval)
		return nil
	}
	c, err := r.client(node)
	if err != nil {
		return err
	}
	return c.Cancel(ctx, rsc, op, interval)
}

// members is gossip's view for the DC. A suspect node still counts as
// alive: one missed probe is no reason to fence.
type members struct{ d *Daemon }

func (m members) Alive() map[string]bool {
	m.d.mu.Lock()
	fenced := make(map[string]bool, len(m.d.fenced))
	for n := range m.d.fenced {
		fenced[n] = true
	}
	m.d.mu.Unlock()
	out := map[string]bool{}
	for _, mem := range m.d.ml.Members() {
		if mem.Role == membership.RoleWitness {
			continue
		}
		out[mem.Name] = !fenced[mem.Name] && mem.Up()
	}
	return out
}

// Boots maps each node gossip knows to the run of its daemon.
func (m members) Boots() map[string]string {
	out := map[string]string{}
	for _, mem := range m.d.ml.Members() {
		if mem.Role != membership.RoleWitness {
			out[mem.Name] = mem.Boot
		}
	}
	return out
}

// reportEvents writes what this node's executor reports (a recurring
// monitor's change, a watch) into the CIB status; the write goes to the
// leader like any other, and the DC reacts to the change.
func (d *Daemon) reportEvents() {
	for ev := range d.exec.Events() {
		if ev.Source == "operation" || ev.Source == "probe" {
			continue // the DC records what it ran; a batch probe only answers its caller
		}
		failed := resources.Failed(ev.Record.Operation, time.Duration(ev.Record.IntervalMS)*time.Millisecond, ev.Record.RC)
		cmd := &store.RecordOp{Node: d.cfg.NodeName, Resource: ev.Resource, Agent: ev.Agent, Op: ev.Record, Failed: failed}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.applyAnywhere(ctx, cmd); err != nil {
			d.log.Warn("could not record an executor event", "rsc", ev.Resource, "op", ev.Record.ID, "rc", ev.Record.RC, "err", err)
		}
		cancel()
	}
}

// applyAnywhere applies a command on the leader, locally or forwarded.
func (d *Daemon) applyAnywhere(ctx context.Context, cmd store.Command) error {
	if d.st.IsLeader() {
		_, err := d.st.Apply(ctx, cmd)
		return err
	}
	env, err := store.Wrap(cmd)
	if err != nil {
		return err
	}
	_, err = d.forward(ctx, env)
	return err
}

// agentRegistry is what the agents endpoints need of the registry.
type agentRegistry interface {
	resources.Resolver
	List(ctx context.Context, class, provider string) ([]cib.AgentName, error)
}

func (d *Daemon) handleAgents(w http.ResponseWriter, r *http.Request) {
	if d.agents == nil {
		writeErr(w, &api.Error{Code: api.CodeUnavailable, Message: "this node has no agent registry"})
		return
	}
	q := r.URL.Query()
	list, err := d.agents.List(r.Context(), q.Get("class"), q.Get("provider"))
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeInternal, Message: err.Error()})
		return
	}
	writeJSON(w, api.AgentsResponse{Node: d.cfg.NodeName, Agents: list})
}

func (d *Daemon) handleDescribe(w http.ResponseWriter, r *http.Request) {
	if d.agents == nil {
		writeErr(w, &api.Error{Code: api.CodeUnavailable, Message: "this node has no agent registry"})
		return
	}
	name, err := cib.ParseAgent(r.URL.Query().Get("agent"), nil)
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeInvalid, Message: err.Error()})
		return
	}
	agent, err := d.agents.Resolve(name, nil)
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeNotFound, Message: err.Error()})
		return
	}
	md, err := agent.MetaData(r.Context())
	if err != nil {
		writeErr(w, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("%s on %s: %v", name, d.cfg.NodeName, err)})
		return
	}
	writeJSON(w, md)
}

func (d *Daemon) handleActive(w http.ResponseWriter, r *http.Request) {
	active := d.exec.Active()
	if active == nil {
		active = []string{}
	}
	writeJSON(w, api.ActiveResponse{Node: d.cfg.NodeName, Resources: active})
}

// handleProbe answers which resources already run here. The DC probes
// through /v1/exec one resource at a time; this is the batch form for
// tools and for a node checking itself at start-up.
func (d *Daemon) handleProbe(w http.ResponseWriter, r *http.Request) {
	var req api.ProbeRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, d.exec.Probe(r.Context(), req.Primitives, 4))
}
