package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pacer/alerts"
	"pacer/crm/cib"
	"pacer/membership"
	"pacer/resources"
)

// metrics is pacerd's Prometheus registry: one per daemon (tests run
// several in one process), never the global one. Cluster state is
// computed at scrape time from this node's CIB copy and its gossip view
// (stateCollector); what cannot be read back later (how long each
// operation took, every fencing attempt, every alert run) is counted as
// it happens.
type metrics struct {
	reg *prometheus.Registry

	opDuration   *prometheus.HistogramVec
	ops          *prometheus.CounterVec
	fenceOps     *prometheus.CounterVec
	fenceAtt     *prometheus.CounterVec
	fenceAttTime *prometheus.HistogramVec
	alertRuns    *prometheus.CounterVec

	mu         sync.Mutex
	lastChange time.Time // when this node last saw the configuration change
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), lastChange: d.clock()}
	m.opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pacer_resource_operation_duration_seconds",
		Help:    "How long this node's resource operations took to run (queue time excluded), by operation and agent.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	}, []string{"operation", "agent"})
	m.ops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pacer_resource_operations_total",
		Help: "Resource operations this node ran, by operation, agent and result code (recurring monitors included).",
	}, []string{"operation", "agent", "rc"})
	m.fenceOps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pacer_fence_operations_total",
		Help: "Fencing operations recorded in the cluster since this node started, by target, action and result (ok or failed).",
	}, []string{"target", "action", "result"})
	m.fenceAtt = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pacer_fence_attempts_total",
		Help: "Fencing attempts (one per device tried) recorded since this node started, by target, device, action and result (ok, failed, timeout).",
	}, []string{"target", "device", "action", "result"})
	m.fenceAttTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pacer_fence_attempt_duration_seconds",
		Help:    "How long fencing attempts took, by device.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	}, []string{"device"})
	m.alertRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pacer_alert_runs_total",
		Help: "Alert agent runs on this node, by alert, event kind and result (ok, failed, timeout).",
	}, []string{"alert", "kind", "result"})
	m.reg.MustRegister(m.opDuration, m.ops, m.fenceOps, m.fenceAtt, m.fenceAttTime, m.alertRuns,
		&stateCollector{d: d, m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func (m *metrics) observeOp(ev resources.Event, agent string) {
	r := ev.Record
	m.opDuration.WithLabelValues(r.Operation, agent).Observe(float64(r.ExecTimeMS) / 1000)
	m.ops.WithLabelValues(r.Operation, agent, strconv.Itoa(r.RC)).Inc()
}

// observeFence counts a finished fencing operation and its attempts.
func (m *metrics) observeFence(op fenceOp) {
	m.fenceOps.WithLabelValues(op.target, op.action, op.result()).Inc()
	for _, e := range op.attempts {
		m.fenceAtt.WithLabelValues(e.Target, e.Device, e.Action, e.Result).Inc()
		m.fenceAttTime.WithLabelValues(e.Device).Observe(e.Duration.Seconds())
	}
}

func (m *metrics) observeAlert(r alerts.Result) {
	result := "ok"
	switch {
	case r.TimedOut:
		result = "timeout"
	case r.Err != nil:
		result = "failed"
	}
	m.alertRuns.WithLabelValues(r.Alert, r.Kind, result).Inc()
}

func (m *metrics) configChanged(at time.Time) {
	m.mu.Lock()
	m.lastChange = at
	m.mu.Unlock()
}

// stateCollector computes gauges at scrape time. Names and labels follow
// ClusterLabs' ha_cluster_exporter where they mean the same, so its
// dashboards work; the rest are pacer_*.
type stateCollector struct {
	d *Daemon
	m *metrics
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descNodes              = desc("ha_cluster_pacemaker_nodes", "The nodes of the cluster; one line per node and status that holds (online, standby, maintenance, unclean, expected_up, pending, dc), always 1.", "node", "type", "status")
	descResources          = desc("ha_cluster_pacemaker_resources", "The resources of the cluster; one line per primitive and node where it is active or failed (node \"\" and role stopped when active nowhere), always 1.", "node", "resource", "role", "managed", "status", "agent", "group", "clone")
	descFailCount          = desc("ha_cluster_pacemaker_fail_count", "Fail count per node and resource (+Inf for INFINITY).", "node", "resource")
	descMigrationThreshold = desc("ha_cluster_pacemaker_migration_threshold", "migration-threshold per node and resource (1000000 is INFINITY, the default).", "node", "resource")
	descStonithEnabled     = desc("ha_cluster_pacemaker_stonith_enabled", "Whether stonith-enabled is true.")
	descLastChange         = desc("ha_cluster_pacemaker_config_last_change", "Unix time this node last saw the configuration change (its own start time until then).")
	descLocation           = desc("ha_cluster_pacemaker_location_constraints", "Location constraints with a node and score; the value is the score (±Inf for ±INFINITY).", "constraint", "node", "resource", "role")
	descNodeAttr           = desc("ha_cluster_pacemaker_node_attributes", "Node attributes (permanent and transient, fail counts excepted), always 1.", "node", "name", "value")
	descQuorate            = desc("ha_cluster_corosync_quorate", "Whether this node is in the quorate partition (it knows a Raft leader).")
	descQuorumVotes        = desc("ha_cluster_corosync_quorum_votes", "Raft votes: expected_votes (voters), total_votes (voters gossip sees alive), quorum (majority needed).", "type")
	descDC                 = desc("pacer_dc", "The DC (the Raft leader) as this node sees it, always 1.", "node")
	descIsDC               = desc("pacer_is_dc", "Whether this node is the DC.")
	descRaftState          = desc("pacer_raft_state", "This node's Raft state; 1 on the current one.", "state")
	descRaftIndex          = desc("pacer_raft_index", "Raft log positions on this node.", "type")
	descRaftTerm           = desc("pacer_raft_term", "This node's current Raft term.")
	descRaftContact        = desc("pacer_raft_last_contact_seconds", "Seconds since this node last heard from the leader (0 on the leader, -1 never).")
	descRaftServers        = desc("pacer_raft_servers", "Servers in the Raft configuration, by role (voter, nonvoter).", "role")
	descRaftUndecodable    = desc("pacer_raft_undecodable_entries", "Raft entries this node could not decode (a version mismatch: upgrade it).")
	descGossip             = desc("pacer_gossip_members", "Gossip members by state as this node sees them.", "state")
	descGossipMember       = desc("pacer_gossip_member_state", "Each gossip member's state as this node sees it, always 1.", "node", "state", "role")
	descCIBVersion         = desc("pacer_cib_version", "This node's CIB version counters.", "part")
	descNodeFenced         = desc("pacer_node_last_fenced_timestamp_seconds", "Unix time of each node's last confirmed fencing.", "node")
	descFenceHistory       = desc("pacer_fence_history_events", "Fencing attempts in the CIB's fence history (the newest 64), by target and result.", "target", "result")
	descBuild              = desc("pacer_build_info", "pacer's version, always 1.", "version")
)

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNodes, descResources, descFailCount, descMigrationThreshold, descStonithEnabled,
		descLastChange, descLocation, descNodeAttr, descQuorate, descQuorumVotes, descDC, descIsDC, descRaftState, descRaftIndex,
		descRaftTerm, descRaftContact, descRaftServers, descRaftUndecodable, descGossip, descGossipMember, descCIBVersion,
		descNodeFenced, descFenceHistory, descBuild} {
		ch <- d
	}
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	d := s.d
	c, _ := d.st.Read()
	leader, _ := d.st.Leader()
	members := d.ml.Members()
	servers, _ := d.st.Servers()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	gauge(descBuild, 1, Version)
	collectCIB(c, leader, members, gauge)
	s.m.mu.Lock()
	gauge(descLastChange, float64(s.m.lastChange.Unix()))
	s.m.mu.Unlock()

	// Quorum and Raft.
	voters, up, nonvoters := votes(servers, members)
	gauge(descQuorate, b2f(leader != ""))
	gauge(descQuorumVotes, float64(voters), "expected_votes")
	gauge(descQuorumVotes, float64(up), "total_votes")
	gauge(descQuorumVotes, float64(voters/2+1), "quorum")
	gauge(descRaftServers, float64(voters), "voter")
	gauge(descRaftServers, float64(nonvoters), "nonvoter")
	if leader != "" {
		gauge(descDC, 1, leader)
	}
	gauge(descIsDC, b2f(leader == d.cfg.NodeName && d.st.IsLeader()))
	stats := d.st.Stats()
	state := d.st.State()
	for _, st := range []string{"Leader", "Follower", "Candidate", "Shutdown"} {
		gauge(descRaftState, b2f(st == state), strings.ToLower(st))
	}
	num := func(k string) float64 {
		v, _ := strconv.ParseFloat(stats[k], 64)
		return v
	}
	for _, k := range []string{"last_log_index", "commit_index", "applied_index", "last_snapshot_index", "fsm_index"} {
		gauge(descRaftIndex, num(k), strings.TrimSuffix(k, "_index"))
	}
	gauge(descRaftTerm, num("term"))
	gauge(descRaftUndecodable, num("undecodable_entries"))
	contact := -1.0
	if d.st.IsLeader() {
		contact = 0
	} else if t := d.st.LastContact(); !t.IsZero() {
		contact = time.Since(t).Seconds()
	}
	gauge(descRaftContact, contact)

	// Gossip.
	byState := map[string]int{"alive": 0, "suspect": 0, "dead": 0, "left": 0}
	for _, m := range members {
		byState[m.State.String()]++
		role := m.Role
		if role == "" {
			role = "node"
		}
		gauge(descGossipMember, 1, m.Name, m.State.String(), role)
	}
	for st, n := range byState {
		gauge(descGossip, float64(n), st)
	}
}

// collectCIB emits what the CIB and gossip say about nodes and
// resources. It is pure, so the benchmark and unit test need no daemon.
func collectCIB(c *cib.CIB, leader string, members []membership.Member, gauge func(*prometheus.Desc, float64, ...string)) {
	stonith := c.Config.Property("stonith-enabled")
	gauge(descStonithEnabled, b2f(stonith == "" || cib.IsTrue(stonith)))
	gauge(descCIBVersion, float64(c.Version.AdminEpoch), "admin_epoch")
	gauge(descCIBVersion, float64(c.Version.Epoch), "epoch")
	gauge(descCIBVersion, float64(c.Version.NumUpdates), "num_updates")

	online := map[string]bool{}
	for _, m := range members {
		online[m.Name] = m.Up()
	}
	for _, n := range c.Config.Nodes {
		ns := c.Status.Nodes[n.Name]
		statuses := []struct {
			name string
			on   bool
		}{
			{"online", online[n.Name]},
			{"standby", n.Standby()},
			{"maintenance", n.Maintenance()},
			{"unclean", ns != nil && ns.Unclean},
			{"expected_up", ns != nil && ns.Expected == "member"},
			{"pending", ns != nil && ns.Join == "pending"},
			{"dc", n.Name == leader},
		}
		for _, st := range statuses {
			if st.on {
				gauge(descNodes, 1, n.Name, "member", st.name)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(n.Attributes)) {
			gauge(descNodeAttr, 1, n.Name, k, n.Attributes[k])
		}
		if ns != nil {
			for _, k := range slices.Sorted(maps.Keys(ns.Attributes)) {
				if !cib.IsFailAttr(k, "") {
					gauge(descNodeAttr, 1, n.Name, k, ns.Attributes[k])
				}
			}
			if ns.LastFenced != nil {
				gauge(descNodeFenced, float64(ns.LastFenced.Unix()), n.Name)
			}
		}
	}
	collectResources(c, online, gauge)
	for _, l := range c.Config.Constraints.Locations {
		if l.Node == "" || l.Score == "" {
			continue
		}
		if sc, err := cib.ParseScore(l.Score); err == nil {
			gauge(descLocation, scoreFloat(sc), l.ID, l.Node, l.Resource, "")
		}
	}
	type fk struct{ target, result string }
	hist := map[fk]int{}
	for _, e := range c.FenceHistory {
		hist[fk{e.Target, e.Result}]++
	}
	for k, n := range hist {
		gauge(descFenceHistory, float64(n), k.target, k.result)
	}
}

// collectResources walks primitives with the meta attributes their group
// or clone passes down, as Pacemaker applies them.
func collectResources(c *cib.CIB, online map[string]bool, gauge func(*prometheus.Desc, float64, ...string)) {
	nodes := make([]string, 0, len(c.Status.Nodes))
	for n := range c.Status.Nodes {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	defaults := c.Config.RscDefaults
	prim := func(p *cib.Primitive, group, clone string, parents ...map[string]string) {
		managed, threshold := true, "INFINITY"
		for _, meta := range append(append([]map[string]string{defaults}, parents...), p.Meta) {
			if v, ok := meta["is-managed"]; ok {
				managed = cib.IsTrue(v)
			}
			if v, ok := meta["migration-threshold"]; ok {
				threshold = v
			}
		}
		thr := 1000000.0
		if sc, err := cib.ParseScore(threshold); err == nil && sc < cib.Infinity {
			thr = float64(sc)
		}
		agent, mgd := p.Agent().String(), strconv.FormatBool(managed)
		placed := false
		for _, n := range nodes {
			ns := c.Status.Nodes[n]
			h := ns.Resources[p.ID]
			if h == nil {
				continue
			}
			gauge(descFailCount, scoreFloat(cib.FailCount(ns.Attributes, p.ID)), n, p.ID)
			gauge(descMigrationThreshold, thr, n, p.ID)
			switch last, _ := h.Last(); {
			case h.Active():
				placed = true
				status := "active"
				if !online[n] {
					status = "orphaned" // held by a node that left: unknown until it is fenced
				}
				gauge(descResources, 1, n, p.ID, "started", mgd, status, agent, group, clone)
			case resources.RecordFailed(last):
				placed = true
				gauge(descResources, 1, n, p.ID, "stopped", mgd, "failed", agent, group, clone)
			}
		}
		if !placed {
			gauge(descResources, 1, "", p.ID, "stopped", mgd, "inactive", agent, group, clone)
		}
	}
	for _, r := range c.Config.Resources {
		switch {
		case r.Primitive != nil:
			prim(r.Primitive, "", "")
		case r.Group != nil:
			for _, m := range r.Group.Members {
				prim(m, r.Group.ID, "", r.Group.Meta)
			}
		case r.Clone != nil && r.Clone.Primitive != nil:
			prim(r.Clone.Primitive, "", r.Clone.ID, r.Clone.Meta)
		case r.Clone != nil && r.Clone.Group != nil:
			for _, m := range r.Clone.Group.Members {
				prim(m, r.Clone.Group.ID, r.Clone.ID, r.Clone.Meta, r.Clone.Group.Meta)
			}
		}
	}
}

func scoreFloat(s cib.Score) float64 {
	switch {
	case s >= cib.Infinity:
		return math.Inf(1)
	case s <= cib.MinusInfinity:
		return math.Inf(-1)
	}
	return float64(s)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// serveMetrics starts the plain-HTTP listener of metrics_addr, when one
// is configured: Prometheus servers seldom hold the cluster's client
// certificate, which the TLS API demands. It serves /metrics only, so
// nothing on it can change or reveal the configuration beyond what the
// metrics say.
func (d *Daemon) serveMetrics() error {
	if d.cfg.MetricsAddr == "" {
		return nil
	}
	l, err := net.Listen("tcp", d.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on metrics_addr %s: %w", d.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.handler())
	d.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelDebug)}
	go d.metricsSrv.Serve(l)
	return nil
}

func (d *Daemon) stopMetrics(ctx context.Context) {
	if d.metricsSrv != nil {
		d.metricsSrv.Shutdown(ctx)
	}
}

// bindMetrics is the /metrics route of the API (unix socket and TLS).
func (d *Daemon) bindMetrics(mux *http.ServeMux) {
	mux.Handle("GET /metrics", d.metrics.handler())
}

// opAgentName is the agent label of an executor event: the agent the
// operation ran, else the one this node's CIB names. The DC's first
// probe and start of a new resource often arrive before this node has
// applied the resource's creation.
func opAgentName(c *cib.CIB, ev resources.Event) string {
	if ev.Agent.Type != "" {
		return ev.Agent.String()
	}
	if p := c.Config.Primitive(ev.Resource); p != nil {
		return p.Agent().String()
	}
	return "unknown"
}
