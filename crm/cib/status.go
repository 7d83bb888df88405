package cib

import (
	"strconv"
	"strings"
	"time"
)

// Status is the live part of the CIB, keyed by node name.
type Status struct {
	Nodes map[string]*NodeStatus `json:"nodes,omitempty"`
}

// NodeStatus is Pacemaker's node_state: membership as the DC saw it,
// transient attributes (fail counts live here) and resource history.
type NodeStatus struct {
	Name     string `json:"name"`
	InCCM    bool   `json:"in_ccm"`         // in the membership
	Crmd     bool   `json:"crmd"`           // the node's daemon answers
	Join     string `json:"join,omitempty"` // member, down, pending, banned
	Expected string `json:"expected,omitempty"`
	// Boot is the run of the node's daemon (membership.Meta.Boot) that
	// the history below belongs to: set when the history is cleared for
	// a restart, so a second clear for the same run is a no-op.
	Boot       string                      `json:"boot,omitempty"`
	Unclean    bool                        `json:"unclean,omitempty"`
	LastFenced *time.Time                  `json:"last_fenced,omitempty"`
	Attributes map[string]string           `json:"attributes,omitempty"`
	Resources  map[string]*ResourceHistory `json:"resources,omitempty"`
}

// ResourceHistory is one resource's operation history on one node.
type ResourceHistory struct {
	ID       string     `json:"id"`
	Class    string     `json:"class"`
	Provider string     `json:"provider,omitempty"`
	Type     string     `json:"type"`
	Ops      []OpRecord `json:"ops,omitempty"`
}

// OpRecord is the result of one operation, as lrm_rsc_op records it.
type OpRecord struct {
	ID           string    `json:"id"` // e.g. vip_monitor_10000, vip_last_0
	Operation    string    `json:"operation"`
	IntervalMS   int64     `json:"interval_ms"`
	CallID       int64     `json:"call_id"`
	RC           int       `json:"rc"`
	OpStatus     int       `json:"op_status"`
	ExecTimeMS   int64     `json:"exec_time_ms"`
	QueueTimeMS  int64     `json:"queue_time_ms"`
	LastRun      time.Time `json:"last_run"`
	LastRCChange time.Time `json:"last_rc_change"`
	Output       string    `json:"output,omitempty"`
	// ExpectedRC is the result the operation was run for, when it is not
	// the usual one (DefaultExpectedRC): Pacemaker keeps it in the
	// transition key, e.g. a probe that expected the resource running.
	ExpectedRC *int `json:"expected_rc,omitempty"`
}

// DefaultExpectedRC is the result an operation is normally run for: 7
// (not running) for a probe (a monitor with interval 0), 0 otherwise.
func (o *OpRecord) DefaultExpectedRC() int {
	if o.Operation == "monitor" && o.IntervalMS == 0 {
		return 7
	}
	return 0
}

// Expected returns ExpectedRC, or DefaultExpectedRC when it is unset.
func (o *OpRecord) Expected() int {
	if o.ExpectedRC != nil {
		return *o.ExpectedRC
	}
	return o.DefaultExpectedRC()
}

// FailCountAttr is the transient attribute name Pacemaker uses for a fail
// count, e.g. "fail-count-vip#monitor_10000".
func FailCountAttr(rsc, op string, intervalMS int64) string {
	return "fail-count-" + rsc + "#" + op + "_" + strconv.FormatInt(intervalMS, 10)
}

// LastFailureAttr pairs with FailCountAttr.
func LastFailureAttr(rsc, op string, intervalMS int64) string {
	return "last-failure-" + rsc + "#" + op + "_" + strconv.FormatInt(intervalMS, 10)
}

// FailCount sums a resource's fail counts over its operations on one
// node (fail-count-RSC#OP_INTERVAL), as Pacemaker compares them with
// migration-threshold; INFINITY saturates, unreadable values count 0.
func FailCount(attrs map[string]string, rsc string) Score {
	prefix := "fail-count-" + rsc + "#"
	var sum Score
	for k, v := range attrs {
		if strings.HasPrefix(k, prefix) {
			if sc, err := ParseScore(v); err == nil {
				sum = sum.Add(sc)
			}
		}
	}
	return sum
}

// IsFailAttr reports whether a transient attribute is a fail count or
// last-failure time: of resource rsc, or of any resource when rsc is "".
func IsFailAttr(name, rsc string) bool {
	for _, p := range []string{"fail-count-", "last-failure-"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rsc == "" || strings.HasPrefix(rest, rsc+"#")
		}
	}
	return false
}

// Last returns the newest record of the history (highest call id).
func (h *ResourceHistory) Last() (OpRecord, bool) {
	if h == nil || len(h.Ops) == 0 {
		return OpRecord{}, false
	}
	last := h.Ops[0]
	for _, op := range h.Ops[1:] {
		if op.CallID > last.CallID {
			last = op
		}
	}
	return last, true
}

// Active reports whether the history ends with the resource running: its
// newest record is a successful start or monitor.
func (h *ResourceHistory) Active() bool {
	last, ok := h.Last()
	return ok && last.RC == 0 && (last.Operation == "start" || last.Operation == "monitor")
}
