package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/quorum"
	"pacer/crm/store"
	"pacer/membership"
)

// maxBody bounds a request: a whole imported CIB fits easily.
const maxBody = 16 << 20

func (d *Daemon) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", d.handleHealth)
	mux.HandleFunc("GET /v1/status", d.handleStatus)
	mux.HandleFunc("GET /v1/cib", d.handleCIB)
	mux.HandleFunc("POST /v1/commands", d.handleCommand)
	mux.HandleFunc("GET /v1/read-index", d.handleReadIndex)
	mux.HandleFunc("GET /v1/watch", d.handleWatch)
	mux.HandleFunc("GET /v1/dc", d.handleDC)
	mux.HandleFunc("POST /v1/exec", d.handleExec)
	mux.HandleFunc("POST /v1/fence", d.handleFence)
	mux.HandleFunc("POST /v1/stonith/verify", d.handleVerify)
	mux.HandleFunc("GET /v1/active", d.handleActive)
	mux.HandleFunc("POST /v1/probe", d.handleProbe)
	mux.HandleFunc("GET /v1/agents", d.handleAgents)
	mux.HandleFunc("GET /v1/agents/describe", d.handleDescribe)
	mux.HandleFunc("POST /v1/recur", d.handleRecur)
	mux.HandleFunc("POST /v1/cancel", d.handleCancel)
	mux.HandleFunc("GET /v1/members", d.handleMembers)
	mux.HandleFunc("POST /v1/shutdown", d.handleShutdown)
	d.bindMetrics(mux)
	mux.HandleFunc("POST /v1/quorum/unblock", d.handleUnblock)
	mux.HandleFunc("POST /v1/quorum/confirm-peer", d.handleConfirmPeer)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no such endpoint %s %s (this pacerd speaks /v1)", r.Method, r.URL.Path)})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	e := api.FromError(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(e)
}

func (d *Daemon) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"node": d.cfg.NodeName, "ok": true, "version": Version})
}

func (d *Daemon) handleShutdown(w http.ResponseWriter, r *http.Request) {
	var req api.ShutdownRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	var stopped []string
	if req.All {
		for _, m := range d.ml.Members() {
			if m.Name == d.cfg.NodeName || m.State != membership.StateAlive {
				continue
			}
			c := api.NewTCP(m.APIAddr, d.tls)
			if err := c.Shutdown(r.Context(), req.Reason+" (via "+d.cfg.NodeName+")", false); err != nil {
				d.log.Warn("could not stop peer", "peer", m.Name, "err", err)
			} else {
				stopped = append(stopped, m.Name)
			}
			c.Close()
		}
	}
	stopped = append(stopped, d.cfg.NodeName)
	writeJSON(w, map[string]any{"stopping": stopped})
	d.requestShutdown(req.Reason)
}

func (d *Daemon) handleCIB(w http.ResponseWriter, r *http.Request) {
	c, idx, stale, err := d.readCIB(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, api.CIBResponse{CIB: c, Index: idx, Stale: stale})
}

// readCIB returns the CIB a read must see: at least min_index (the
// client's own earlier write through another node) and, with
// consistent=1, every write acknowledged anywhere. For the latter a
// follower asks the leader for its read index; when it has not applied
// that far yet (followers learn of commits a little later) it takes the
// leader's copy instead of waiting. When the leader cannot be reached the
// local copy is served and stale says so: status must work in a
// partition too.
func (d *Daemon) readCIB(r *http.Request) (c *cib.CIB, idx uint64, stale string, err error) {
	q := r.URL.Query()
	var min uint64
	if s := q.Get("min_index"); s != "" {
		if min, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, 0, "", &api.Error{Code: api.CodeBadRequest, Message: "min_index must be a non-negative integer"}
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if q.Get("consistent") == "1" {
		ri, err := d.readIndex(ctx)
		switch {
		case err != nil:
			stale = fmt.Sprintf("read from %s's own copy: the leader could not confirm the latest version (%v)", d.cfg.NodeName, err)
		case !d.st.IsLeader():
			if _, applied := d.st.Read(); applied < max(ri, min) {
				if c, idx, err := d.leaderCIB(ctx); err == nil {
					return c, idx, "", nil
				}
			}
			min = max(min, ri)
		}
	}
	if min > 0 {
		if err := d.st.WaitIndex(ctx, min); err != nil {
			return nil, 0, "", &api.Error{Code: api.CodeUnavailable, Message: fmt.Sprintf("this node has not caught up to raft index %d within 5s: it may be cut off from the leader", min)}
		}
	}
	c, idx = d.st.Read()
	return c, idx, stale, nil
}

// leaderCIB fetches the leader's copy, which holds every acknowledged
// write (the leader applies before it acknowledges).
func (d *Daemon) leaderCIB(ctx context.Context) (*cib.CIB, uint64, error) {
	cl, err := d.leaderClient()
	if err != nil {
		return nil, 0, err
	}
	r, err := cl.CIB(ctx, 0)
	if err != nil {
		return nil, 0, err
	}
	return r.CIB, r.Index, nil
}

// readIndex gets the leader's read index, locally or over the API,
// riding out an election for up to two seconds.
func (d *Daemon) readIndex(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for {
		idx, err := d.readIndexOnce(ctx)
		if err == nil || !retryable(err) {
			return idx, err
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *Daemon) readIndexOnce(ctx context.Context) (uint64, error) {
	if d.st.IsLeader() {
		return d.st.ReadIndex(ctx)
	}
	c, err := d.leaderClient()
	if err != nil {
		return 0, err
	}
	r, err := c.ReadIndex(ctx)
	if err != nil {
		return 0, err
	}
	return r.Index, nil
}

func (d *Daemon) handleReadIndex(w http.ResponseWriter, r *http.Request) {
	if !d.st.IsLeader() {
		writeErr(w, &api.Error{Code: api.CodeNotLeader, Message: fmt.Sprintf("%s is not the leader; ask the leader for the read index", d.cfg.NodeName)})
		return
	}
	idx, err := d.st.ReadIndex(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, api.ReadIndexResponse{Index: idx, Leader: d.cfg.NodeName})
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return &api.Error{Code: api.CodeBadRequest, Message: "malformed JSON body: " + err.Error()}
	}
	return nil
}

func (d *Daemon) handleCommand(w http.ResponseWriter, r *http.Request) {
	var env store.Envelope
	if err := decodeBody(r, &env); err != nil {
		writeErr(w, err)
		return
	}
	cmd, err := env.Unwrap()
	if err != nil {
		writeErr(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	resp, err := d.applyRetrying(ctx, env, cmd, r.Header.Get(api.HeaderForwarded) != "")
	if err != nil {
		writeErr(w, err)
		return
	}
	// No wait for this node to apply the write: a client that reads next
	// passes the returned index (or asks for a consistent read).
	writeJSON(w, resp)
}

// applyRetrying applies a write on the leader, here or forwarded. While
// an election runs (no leader, or the node asked is no longer it) nothing
// was written, so it waits for the new leader and tries again, until ctx
// ends. A write that may already be in the log is never repeated: that
// answer (code uncertain) goes back to the client.
func (d *Daemon) applyRetrying(ctx context.Context, env store.Envelope, cmd store.Command, forwarded bool) (*api.CommandResponse, error) {
	for {
		var resp *api.CommandResponse
		var err error
		switch {
		case d.st.IsLeader():
			var res store.Result
			if res, err = d.st.Apply(ctx, cmd); err == nil {
				return &api.CommandResponse{Version: res.Version, Index: res.Index, Leader: d.cfg.NodeName}, nil
			}
		case forwarded:
			return nil, &api.Error{Code: api.CodeNotLeader, Message: fmt.Sprintf("%s is not the leader any more; retry", d.cfg.NodeName)}
		default:
			if resp, err = d.forward(ctx, env); err == nil {
				return resp, nil
			}
		}
		if !retryable(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// retryable: the write surely did not enter the log.
func retryable(err error) bool {
	if errors.Is(err, store.ErrMaybeApplied) {
		return false
	}
	if errors.Is(err, store.ErrNotLeader) || errors.Is(err, store.ErrNoLeader) {
		return true
	}
	var ae *api.Error
	return errors.As(err, &ae) && (ae.Code == api.CodeNotLeader || ae.Code == api.CodeNoLeader)
}

// forward sends a write to the leader's TLS API.
func (d *Daemon) forward(ctx context.Context, env store.Envelope) (*api.CommandResponse, error) {
	c, err := d.leaderClient()
	if err != nil {
		return nil, err
	}
	return c.ApplyEnvelope(ctx, env)
}

// leaderClient returns a kept-alive TLS client for the current leader, so
// a forwarded request costs no new handshake.
func (d *Daemon) leaderClient() (*api.Client, error) {
	leaderID, _ := d.st.Leader()
	if leaderID == "" {
		return nil, &api.Error{Code: api.CodeNoLeader, Message: "no leader: this node sees no quorum (are a majority of the voters running?); the change was not written"}
	}
	addr := ""
	for _, m := range d.ml.Members() {
		if m.Name == leaderID {
			addr = m.APIAddr
		}
	}
	if addr == "" {
		for _, p := range d.cfg.Peers {
			if p.Name == leaderID {
				addr = p.API
			}
		}
	}
	if addr == "" {
		return nil, &api.Error{Code: api.CodeNotLeader, Message: fmt.Sprintf("leader %s has no known API address yet; retry", leaderID)}
	}
	return d.peerClient(addr), nil
}

// peerClient returns the kept-alive TLS client for a node's API address.
func (d *Daemon) peerClient(addr string) *api.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.peerClients == nil {
		d.peerClients = map[string]*api.Client{}
	}
	c, ok := d.peerClients[addr]
	if !ok {
		c = api.NewTCP(addr, d.tls)
		c.Forwarded = true
		d.peerClients[addr] = c
	}
	return c
}

func (d *Daemon) handleMembers(w http.ResponseWriter, r *http.Request) {
	leaderID, _ := d.st.Leader()
	servers, err := d.st.Servers()
	if err != nil {
		writeErr(w, err)
		return
	}
	resp := api.MembersResponse{Node: d.cfg.NodeName, Leader: leaderID, Raft: d.st.State(), Servers: servers}
	for _, m := range d.ml.Members() {
		resp.Members = append(resp.Members, api.Member{Name: m.Name, State: m.State.String(), Gossip: m.Addr, RaftAddr: m.RaftAddr, APIAddr: m.APIAddr, Version: m.Version, Role: m.Role})
	}
	writeJSON(w, resp)
}

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) {
	c, idx, stale, err := d.readCIB(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	leaderID, _ := d.st.Leader()
	servers, _ := d.st.Servers()
	st := buildStatus(d.cfg.ClusterName, d.cfg.NodeName, leaderID, c, idx, d.ml.Members(), servers)
	st.Transition = d.dcState(r.Context())
	if t := st.Transition; t != nil && (t.Version.AdminEpoch < c.Version.AdminEpoch ||
		t.Version.AdminEpoch == c.Version.AdminEpoch && t.Version.Epoch < c.Version.Epoch) {
		// The DC has not scheduled this configuration yet: what it found
		// blocked was about the one before (e.g. no fencing device, just
		// before stonith-enabled=false landed).
		t.Blocked = nil
	}
	// Decided afresh, and the race from the CIB this status shows: the
	// loop's last look, and this node's own copy, may predate the write
	// this read follows (a group just started changes who wins).
	d.twoNodeDecide()
	st.TwoNode = d.twoNodeStatus()
	if t := st.TwoNode; t != nil {
		tie := quorum.TwoNodeTie(c, d.cfg.NodeName, t.Peer)
		t.Winner, t.Loser, t.TieReason = tie.Winner, tie.Loser, tie.Reason
	}
	addStatusDetail(&st, c, d.ml.Members(), servers)
	for _, b := range stateBlocked(st.Transition) {
		st.Notes = append(st.Notes, "blocked: "+b)
	}
	if stale != "" {
		st.Notes = append(st.Notes, stale)
	}
	writeJSON(w, st)
}

// buildStatus is pure so the status text can be tested without a cluster.
func buildStatus(cluster, self, leader string, c *cib.CIB, idx uint64, members []membership.Member, servers []store.Server) api.StatusResponse {
	if name := c.Config.Properties["cluster-name"]; name != "" {
		cluster = name
	}
	resp := api.StatusResponse{ClusterName: cluster, Node: self, DC: leader, Quorum: leader != "", Version: c.Version, Index: idx}
	byName := map[string]membership.Member{}
	for _, m := range members {
		byName[m.Name] = m
	}
	role := map[string]string{}
	for _, s := range servers {
		role[s.ID] = "nonvoter"
		if s.Voter {
			role[s.ID] = "voter"
		}
	}
	seen := map[string]bool{}
	add := func(name string, attrs map[string]string) {
		seen[name] = true
		m, ok := byName[name]
		ns := api.NodeStatus{Name: name, Gossip: "unknown", Raft: "none", Standby: cib.IsTrue(attrs["standby"]), Maintenance: cib.IsTrue(attrs["maintenance"])}
		if r, ok := role[name]; ok {
			ns.Raft = r
		}
		if ok {
			ns.Gossip = m.State.String()
			ns.Addr = m.Addr
			ns.Version = m.Version
		}
		switch {
		case !ok || !m.Up():
			ns.State = "offline"
		case ns.Maintenance:
			ns.State = "maintenance"
		case ns.Standby:
			ns.State = "standby"
		default:
			ns.State = "online"
		}
		resp.Nodes = append(resp.Nodes, ns)
	}
	for _, n := range c.Config.Nodes {
		add(n.Name, n.Attributes)
	}
	for _, m := range members {
		if !seen[m.Name] && m.Role != "witness" {
			add(m.Name, nil)
		}
	}
	sort.Slice(resp.Nodes, func(i, j int) bool { return resp.Nodes[i].Name < resp.Nodes[j].Name })
	resp.Resources = resourceStatus(c)
	resp.Failures = failedActions(c)
	if leader == "" {
		resp.Notes = append(resp.Notes, "no leader: this node sees no quorum; the configuration cannot be changed until a majority of voters is back")
	}
	return resp
}

func resourceStatus(c *cib.CIB) []api.ResourceStatus {
	var out []api.ResourceStatus
	// Meta attributes of a clone and a group apply to their members
	// unless a member sets its own, as in Pacemaker.
	var parents []map[string]string
	addPrim := func(p *cib.Primitive, group, clone string) {
		rs := api.ResourceStatus{ID: p.ID, Agent: p.Agent().String(), Group: group, Clone: clone, Role: "Stopped", TargetRole: "Started", Managed: true}
		rs.MigrationThreshold = c.Config.RscDefaults["migration-threshold"]
		for _, meta := range append(parents, p.Meta) {
			if v := meta["target-role"]; v != "" {
				rs.TargetRole = v
			}
			if v, ok := meta["is-managed"]; ok {
				rs.Managed = cib.IsTrue(v)
			}
			if v, ok := meta["migration-threshold"]; ok {
				rs.MigrationThreshold = v
			}
		}
		if node, ok := runningOn(c, p.ID); ok {
			rs.Role, rs.Node = "Started", node
		}
		out = append(out, rs)
	}
	for _, r := range c.Config.Resources {
		switch {
		case r.Primitive != nil:
			parents = nil
		case r.Group != nil:
			parents = []map[string]string{r.Group.Meta}
		case r.Clone != nil && r.Clone.Group != nil:
			parents = []map[string]string{r.Clone.Meta, r.Clone.Group.Meta}
		default:
			parents = []map[string]string{r.Clone.Meta}
		}
		switch {
		case r.Primitive != nil:
			addPrim(r.Primitive, "", "")
		case r.Group != nil:
			for _, m := range r.Group.Members {
				addPrim(m, r.Group.ID, "")
			}
		case r.Clone != nil && r.Clone.Primitive != nil:
			addPrim(r.Clone.Primitive, "", r.Clone.ID)
		case r.Clone != nil && r.Clone.Group != nil:
			for _, m := range r.Clone.Group.Members {
				addPrim(m, r.Clone.Group.ID, r.Clone.ID)
			}
		}
	}
	return out
}

// runningOn reads the status section: the resource runs where its last
// start or monitor succeeded and no later stop did.
func runningOn(c *cib.CIB, id string) (string, bool) {
	names := make([]string, 0, len(c.Status.Nodes))
	for n := range c.Status.Nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	// A node that left keeps its history until it is fenced or rejoins;
	// a copy reported by a live node is the one to show.
	offline := ""
	for _, n := range names {
		ns := c.Status.Nodes[n]
		if !ns.Resources[id].Active() {
			continue
		}
		if ns.InCCM && ns.Crmd {
			return n, true
		}
		if offline == "" {
			offline = n
		}
	}
	return offline, offline != ""
}

// handleDC reports the DC's state: directly on the DC, else asked of it.
func (d *Daemon) handleDC(w http.ResponseWriter, r *http.Request) {
	d.ctrlMu.Lock()
	ctrl := d.ctrl
	d.ctrlMu.Unlock()
	if ctrl != nil {
		writeJSON(w, api.DCState{DC: d.cfg.NodeName, State: ctrl.State()})
		return
	}
	if r.Header.Get(api.HeaderForwarded) != "" {
		writeErr(w, &api.Error{Code: api.CodeNotLeader, Message: fmt.Sprintf("%s is not the DC", d.cfg.NodeName)})
		return
	}
	c, err := d.leaderClient()
	if err != nil {
		writeErr(w, err)
		return
	}
	st, err := c.DC(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, st)
}

// dcState is the DC's state, from the local controller or (briefly) from
// the DC; nil when it cannot be had.
func (d *Daemon) dcState(ctx context.Context) *api.DCState {
	d.ctrlMu.Lock()
	ctrl := d.ctrl
	d.ctrlMu.Unlock()
	if ctrl != nil {
		return &api.DCState{DC: d.cfg.NodeName, State: ctrl.State()}
	}
	c, err := d.leaderClient()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := c.DC(ctx)
	if err != nil {
		return nil
	}
	return st
}

func stateBlocked(s *api.DCState) []string {
	if s == nil {
		return nil
	}
	return s.Blocked
}

// opStatusNames are Pacemaker's execution statuses, as crm_mon words them.
var opStatusNames = map[int]string{0: "complete", -1: "pending", 1: "cancelled", 2: "Timed Out", 3: "not supported", 4: "error", 5: "error", 6: "error", 7: "not installed"}

// failedActions lists failed operations from the status section, newest
// first. A probe or a stop finding "not running" is an answer, not a
// failure.
func failedActions(c *cib.CIB) []api.FailedAction {
	var out []api.FailedAction
	for node, ns := range c.Status.Nodes {
		for id, h := range ns.Resources {
			seen := map[int64]bool{} // a failure and its _last_failure_0 copy share a call id
			for _, op := range h.Ops {
				if op.RC == 0 || (op.RC == 7 && (op.IntervalMS == 0 || op.Operation == "stop")) || seen[op.CallID] {
					continue
				}
				seen[op.CallID] = true
				out = append(out, api.FailedAction{
					Resource: id, Node: node, Op: op.Operation, IntervalMS: op.IntervalMS, RC: op.RC,
					Status: opStatusNames[op.OpStatus], Reason: firstLine(op.Output), At: op.LastRCChange,
					FailCount: ns.Attributes[cib.FailCountAttr(id, op.Operation, op.IntervalMS)],
					CallID:    op.CallID, ExecMS: op.ExecTimeMS, QueueMS: op.QueueTimeMS,
				})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].Resource+out[i].Node < out[j].Resource+out[j].Node
	})
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
