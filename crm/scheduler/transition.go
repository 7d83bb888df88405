package scheduler

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"pacer/crm/cib"
)

// Input is everything the scheduler looks at. The CIB is read, never
// written; Now stands in for the wall clock so that failure-timeout expiry
// is reproducible (crm_simulate --set-datetime does the same).
type Input struct {
	CIB    *cib.CIB
	Quorum bool // this partition has quorum
	Now    time.Time
}

// Stopped is the placement of a primitive that will not run after the
// transition.
const Stopped = "stopped"

// SimulateFormat is the "format" value of `pcsctl simulate --json`, whose
// other keys are the JSON of a Transition.
const SimulateFormat = "pcs-simulate/v1"

// Transition is the scheduler's whole answer: where every primitive ends
// up, which nodes are fenced, what changes and in which order, and the
// score table behind each decision.
//
// The JSON field names of Placement, Fencing, Actions and Steps are the
// ones `pcsctl simulate --json` prints (format "pcs-simulate/v1"), so the
// CLI can marshal a Transition as it is and add the "format" key.
type Transition struct {
	// CIBVersion is the version the transition was computed from; the
	// controller refuses to run it once the CIB has moved on.
	CIBVersion cib.Version `json:"cib_version"`
	// Placement maps every configured primitive (group members, stonith
	// devices, clone instances as "id:N") and every orphan still active to
	// its node after the transition, or Stopped.
	Placement map[string]string `json:"placement"`
	// Fencing lists the nodes fenced in this transition, sorted.
	Fencing []string `json:"fencing"`
	// Actions has one entry per primitive that changes, in resource order.
	Actions []Action `json:"actions"`
	// Steps are the fence, stop and start steps in an order the controller
	// may run them one by one.
	Steps []Step `json:"steps"`
	// Graph is the same work as a dependency graph (monitors included),
	// for a controller that runs independent actions in parallel.
	Graph []GraphAction `json:"graph"`
	// Nodes is the state of every configured node as the scheduler saw it.
	Nodes []NodeState `json:"nodes"`
	// Resources describes every primitive: where it runs now, where it
	// will run, and the flags that shaped the decision.
	Resources []ResourceState `json:"resources"`
	// Scores is the allocation score of each primitive on each node, the
	// table crm_simulate -s prints. Nodes that cannot run anything are
	// shown as -INFINITY.
	Scores *ScoreTable `json:"scores"`
	// Reasons lists, per primitive, what contributed to its scores and
	// placement, for `pcsctl explain`.
	Reasons map[string][]Reason `json:"reasons"`
	// Warnings are configuration problems the scheduler worked around
	// (unknown resources in constraints, unfenceable unclean nodes, ...).
	Warnings []string `json:"warnings,omitempty"`
}

// ActionKind names what happens to one primitive.
type ActionKind string

// The action kinds of the simulate output.
const (
	ActStart   ActionKind = "start"   // stopped, will run on To
	ActStop    ActionKind = "stop"    // runs on From, will be stopped
	ActMove    ActionKind = "move"    // healthy, stopped on From and started on To
	ActRecover ActionKind = "recover" // failed, stopped and started (To may equal From)
	ActRestart ActionKind = "restart" // healthy, stopped and started in place
)

// Action is one primitive's change. From and To are empty for "nowhere"
// and marshal as JSON null. Blocked means the scheduler wants the change
// but cannot run it (no quorum, an unrunnable mandatory dependency, a stop
// on an unclean node that cannot be fenced); Reason says why in words.
type Action struct {
	Resource string     `json:"resource"`
	Kind     ActionKind `json:"action"`
	From     string     `json:"from"`
	To       string     `json:"to"`
	Blocked  bool       `json:"blocked,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// MarshalJSON writes empty From/To as null, as the simulate format asks.
func (a Action) MarshalJSON() ([]byte, error) {
	type wire struct {
		Resource string     `json:"resource"`
		Kind     ActionKind `json:"action"`
		From     *string    `json:"from"`
		To       *string    `json:"to"`
		Blocked  bool       `json:"blocked,omitempty"`
		Reason   string     `json:"reason,omitempty"`
	}
	w := wire{Resource: a.Resource, Kind: a.Kind, Blocked: a.Blocked, Reason: a.Reason}
	if a.From != "" {
		w.From = &a.From
	}
	if a.To != "" {
		w.To = &a.To
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads null From/To back as empty strings.
func (a *Action) UnmarshalJSON(b []byte) error {
	type plain Action
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*a = Action(p)
	return nil
}

// StepKind is the operation of a step or graph action.
type StepKind string

// Step and graph action kinds.
const (
	StepFence   StepKind = "fence"
	StepStop    StepKind = "stop"
	StepStart   StepKind = "start"
	StepMonitor StepKind = "monitor"
)

// Step is one operation for the controller. It marshals as a string:
// "fence:node3", "stop:B:node1", "start:A:node1".
type Step struct {
	Kind     StepKind
	Resource string // empty for fencing
	Node     string
}

// String prints the step in its text form.
func (s Step) String() string {
	if s.Kind == StepFence {
		return "fence:" + s.Node
	}
	return string(s.Kind) + ":" + s.Resource + ":" + s.Node
}

// MarshalText writes the text form.
func (s Step) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses the text form. Resource ids may not contain ':'
// except clone instance suffixes, so the node is the last field.
func (s *Step) UnmarshalText(b []byte) error {
	t := string(b)
	kind, rest, ok := strings.Cut(t, ":")
	if !ok || rest == "" {
		return fmt.Errorf("step %q: want kind:node or kind:resource:node", t)
	}
	if StepKind(kind) == StepFence {
		*s = Step{Kind: StepFence, Node: rest}
		return nil
	}
	i := strings.LastIndex(rest, ":")
	if i <= 0 || i == len(rest)-1 {
		return fmt.Errorf("step %q: want %s:resource:node", t, kind)
	}
	*s = Step{Kind: StepKind(kind), Resource: rest[:i], Node: rest[i+1:]}
	return nil
}

// GraphAction is one executable action of the transition graph. After
// lists the IDs that must complete first. Monitors are the recurring
// monitors to (re)arm after a start; IntervalMS says which.
type GraphAction struct {
	ID         int      `json:"id"`
	Kind       StepKind `json:"kind"`
	Resource   string   `json:"resource,omitempty"`
	Node       string   `json:"node"`
	IntervalMS int64    `json:"interval_ms,omitempty"`
	After      []int    `json:"after,omitempty"`
}

// NodeState is a node as the scheduler derived it from configuration and
// status (see doc.go for the rules).
type NodeState struct {
	Name        string `json:"name"`
	Online      bool   `json:"online"`
	Unclean     bool   `json:"unclean,omitempty"`
	Fenced      bool   `json:"fenced,omitempty"` // fenced in this transition
	Standby     bool   `json:"standby,omitempty"`
	Maintenance bool   `json:"maintenance,omitempty"`
	Pending     bool   `json:"pending,omitempty"`
	Shutdown    bool   `json:"shutdown,omitempty"`
	// Reason says why the node is unclean, pending or offline.
	Reason string `json:"reason,omitempty"`
}

// CanRun reports whether new resources may be placed on the node.
func (n NodeState) CanRun() bool {
	return n.Online && !n.Unclean && !n.Standby && !n.Maintenance && !n.Pending && !n.Shutdown
}

// ResourceState is one primitive before and after the transition.
type ResourceState struct {
	ID      string   `json:"id"`
	Group   string   `json:"group,omitempty"` // enclosing group
	Clone   string   `json:"clone,omitempty"` // enclosing clone
	Agent   string   `json:"agent"`
	Current []string `json:"current,omitempty"` // nodes it is active on now
	// Next is the node chosen by the scheduler, or Stopped; Placement
	// differs from it only where an action is blocked.
	Next      string `json:"next"`
	Placement string `json:"placement"`
	Managed   bool   `json:"managed"`
	Failed    bool   `json:"failed,omitempty"`
	Orphan    bool   `json:"orphan,omitempty"` // in status but no longer configured
	// FailCounts are the effective fail counts per node (expired ones
	// left out).
	FailCounts map[string]cib.Score `json:"fail_counts,omitempty"`
}

// Reason is one contribution to a primitive's scores or placement. Node
// is empty when it concerns every node or the resource as a whole.
type Reason struct {
	Node  string    `json:"node,omitempty"`
	Score cib.Score `json:"score"`
	Text  string    `json:"text"`
}

// ScoreTable holds the allocation score of every primitive on every node
// in one slab (a map per resource costs more than the scheduling itself
// at 10,000 resources). It marshals as {"rsc": {"node": score}}.
type ScoreTable struct {
	Nodes     []string      // columns, in configured node order
	Resources []string      // rows, in resource order
	Values    [][]cib.Score // Values[row][column]
	index     map[string]int
}

func newScoreTable(nodes, rscs []string) *ScoreTable {
	t := &ScoreTable{Nodes: nodes, Resources: rscs, Values: make([][]cib.Score, len(rscs)),
		index: make(map[string]int, len(rscs))}
	slab := make([]cib.Score, len(rscs)*len(nodes))
	for i, r := range rscs {
		t.Values[i] = slab[i*len(nodes) : (i+1)*len(nodes) : (i+1)*len(nodes)]
		t.index[r] = i
	}
	return t
}

// Get returns a resource's score on a node.
func (t *ScoreTable) Get(rsc, node string) (cib.Score, bool) {
	i, ok := t.index[rsc]
	if !ok {
		return 0, false
	}
	for j, n := range t.Nodes {
		if n == node {
			return t.Values[i][j], true
		}
	}
	return 0, false
}

// Row returns one resource's scores by node name (nil if unknown).
func (t *ScoreTable) Row(rsc string) map[string]cib.Score {
	i, ok := t.index[rsc]
	if !ok {
		return nil
	}
	m := make(map[string]cib.Score, len(t.Nodes))
	for j, n := range t.Nodes {
		m[n] = t.Values[i][j]
	}
	return m
}

// MarshalJSON writes the nested-object form.
func (t *ScoreTable) MarshalJSON() ([]byte, error) {
	m := make(map[string]map[string]cib.Score, len(t.Resources))
	for _, r := range t.Resources {
		m[r] = t.Row(r)
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the nested-object form (rows and columns sorted).
func (t *ScoreTable) UnmarshalJSON(b []byte) error {
	var m map[string]map[string]cib.Score
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	nodeSet := map[string]bool{}
	for _, row := range m {
		for n := range row {
			nodeSet[n] = true
		}
	}
	*t = *newScoreTable(sortedKeys(nodeSet), sortedKeys(m))
	for i, r := range t.Resources {
		for j, n := range t.Nodes {
			t.Values[i][j] = m[r][n]
		}
	}
	return nil
}
