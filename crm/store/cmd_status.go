package store

import (
	"strconv"
	"time"

	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &RecordOp{} })
	register(func() Command { return &SetNodeState{} })
	register(func() Command { return &SetTransientAttr{} })
	register(func() Command { return &ClearFailures{} })
	register(func() Command { return &RecordFence{} })
}

// These commands write the status section: what nodes and executors
// report, and what the DC concludes. They bump num_updates only.

// nodeStatus returns the status entry of a node, creating it.
func nodeStatus(x *cib.CIB, node string) *cib.NodeStatus {
	if x.Status.Nodes == nil {
		x.Status.Nodes = map[string]*cib.NodeStatus{}
	}
	ns := x.Status.Nodes[node]
	if ns == nil {
		ns = &cib.NodeStatus{Name: node}
		x.Status.Nodes[node] = ns
	}
	return ns
}

// maxOpsPerResource bounds a resource's history on one node, keeping the
// newest record of each operation key.
const maxOpsPerResource = 8

// RecordOp stores the result of one operation on a node, replacing the
// previous record with the same id (vip_last_0, vip_monitor_10000), as
// lrm_rsc_op entries do. A failure also bumps the fail count.
type RecordOp struct {
	Node     string        `json:"node"`
	Resource string        `json:"resource"`
	Agent    cib.AgentName `json:"agent"`
	Op       cib.OpRecord  `json:"op"`
	// Failed says the executor counted this result as a failure.
	Failed bool `json:"failed,omitempty"`
}

func (*RecordOp) Kind() string     { return "status.op" }
func (*RecordOp) Section() Section { return SectionStatus }
func (c *RecordOp) Apply(x *cib.CIB) error {
	if c.Node == "" || c.Resource == "" || c.Op.ID == "" {
		return errorf(ErrInvalid, "an operation record needs node, resource and op id")
	}
	ns := nodeStatus(x, c.Node)
	if ns.Resources == nil {
		ns.Resources = map[string]*cib.ResourceHistory{}
	}
	h := ns.Resources[c.Resource]
	if h == nil {
		h = &cib.ResourceHistory{ID: c.Resource}
		ns.Resources[c.Resource] = h
	}
	h.Class, h.Provider, h.Type = c.Agent.Class, c.Agent.Provider, c.Agent.Type
	// A failure is also kept as RSC_last_failure_0, as Pacemaker does, so
	// it stays on record (and in status) after a later success replaces
	// the operation's own entry, until 'resource cleanup'.
	failure := c.Op
	failure.ID = c.Resource + "_last_failure_0"
	// Any news from the node supersedes a lost action's placeholder.
	lost := LostOpID(c.Resource)
	kept := h.Ops[:0:0]
	for _, op := range h.Ops {
		if op.ID != c.Op.ID && op.ID != lost && !(c.Failed && op.ID == failure.ID) {
			kept = append(kept, op)
		}
	}
	if c.Failed {
		kept = append(kept, failure)
	}
	kept = append(kept, c.Op)
	if len(kept) > maxOpsPerResource {
		kept = kept[len(kept)-maxOpsPerResource:]
	}
	h.Ops = kept
	if c.Failed {
		if ns.Attributes == nil {
			ns.Attributes = map[string]string{}
		}
		key := cib.FailCountAttr(c.Resource, c.Op.Operation, c.Op.IntervalMS)
		n := atoi(ns.Attributes[key]) + 1
		ns.Attributes[key] = itoa(n)
		ns.Attributes[cib.LastFailureAttr(c.Resource, c.Op.Operation, c.Op.IntervalMS)] = itoa(c.Op.LastRun.Unix())
	}
	return nil
}

// SetNodeState records the DC's view of a node's membership.
type SetNodeState struct {
	Node     string `json:"node"`
	InCCM    bool   `json:"in_ccm"`
	Crmd     bool   `json:"crmd"`
	Join     string `json:"join"`
	Expected string `json:"expected"`
	Unclean  bool   `json:"unclean,omitempty"`
}

func (*SetNodeState) Kind() string     { return "status.node" }
func (*SetNodeState) Section() Section { return SectionStatus }
func (c *SetNodeState) Apply(x *cib.CIB) error {
	if c.Node == "" {
		return errorf(ErrInvalid, "node state without a node name")
	}
	ns := nodeStatus(x, c.Node)
	ns.InCCM, ns.Crmd, ns.Join, ns.Expected, ns.Unclean = c.InCCM, c.Crmd, c.Join, c.Expected, c.Unclean
	return nil
}

// SetTransientAttr sets (or with an empty value removes) a transient node
// attribute, which lives in the status section and is lost when the
// node's status is cleared.
type SetTransientAttr struct {
	Node  string `json:"node"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (*SetTransientAttr) Kind() string     { return "status.attribute" }
func (*SetTransientAttr) Section() Section { return SectionStatus }
func (c *SetTransientAttr) Apply(x *cib.CIB) error {
	if c.Node == "" || c.Name == "" {
		return errorf(ErrInvalid, "a transient attribute needs a node and a name")
	}
	ns := nodeStatus(x, c.Node)
	if c.Value == "" {
		delete(ns.Attributes, c.Name)
		return nil
	}
	if ns.Attributes == nil {
		ns.Attributes = map[string]string{}
	}
	ns.Attributes[c.Name] = c.Value
	return nil
}

// ClearFailures forgets a resource's fail counts and failed operations
// ('pcsctl resource cleanup'), on one node or (Node empty) on all. With
// Resource empty it clears every resource.
type ClearFailures struct {
	Resource string `json:"resource,omitempty"`
	Node     string `json:"node,omitempty"`
}

func (*ClearFailures) Kind() string     { return "status.cleanup" }
func (*ClearFailures) Section() Section { return SectionStatus }
func (c *ClearFailures) Apply(x *cib.CIB) error {
	for name, ns := range x.Status.Nodes {
		if c.Node != "" && name != c.Node {
			continue
		}
		for k := range ns.Attributes {
			if cib.IsFailAttr(k, c.Resource) {
				delete(ns.Attributes, k)
			}
		}
		for id, h := range ns.Resources {
			if c.Resource != "" && id != c.Resource {
				continue
			}
			kept := h.Ops[:0:0]
			for _, op := range h.Ops {
				if op.RC == 0 || (op.Operation == "monitor" && op.RC == 7 && op.IntervalMS == 0) || (op.Operation == "stop" && op.RC == 7) {
					kept = append(kept, op)
				}
			}
			h.Ops = kept
		}
	}
	return nil
}

// RecordFence notes that a node was fenced: its resources are known to be
// stopped, so its history is cleared and its state set to down.
type RecordFence struct {
	Node string    `json:"node"`
	At   time.Time `json:"at"`
}

func (*RecordFence) Kind() string     { return "status.fenced" }
func (*RecordFence) Section() Section { return SectionStatus }
func (c *RecordFence) Apply(x *cib.CIB) error {
	if c.Node == "" {
		return errorf(ErrInvalid, "fence record without a node")
	}
	ns := nodeStatus(x, c.Node)
	at := c.At
	ns.LastFenced = &at
	ns.InCCM, ns.Crmd, ns.Join, ns.Expected, ns.Unclean = false, false, "down", "down", false
	ns.Resources = nil
	return nil
}

// LostOpID is the id of the placeholder the DC records for an action
// whose node left the membership before answering (Pacemaker's "action
// lost"): a pending operation, so the scheduler assumes the resource may
// be active there (a lost start) or still is (a lost stop), and the node
// is fenced or probed before the resource starts elsewhere. The next
// record of that resource on that node replaces it.
func LostOpID(rsc string) string { return rsc + "_lost_0" }

func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func init() { register(func() Command { return &ClearNodeHistory{} }) }

// ClearNodeHistory forgets a node's resource history and transient
// attributes, when it rejoins: its executor starts empty, so the DC
// probes it again rather than trusting old records.
//
// With Boot (the node daemon's run) the clear happens once per run: the
// DC clears a restarted node as soon as gossip shows the new run, the
// node announces its own restart too, and whichever lands second must
// not wipe what was recorded in between (a start the DC already ran
// there would be forgotten and run again).
type ClearNodeHistory struct {
	Node string `json:"node"`
	Boot string `json:"boot,omitempty"`
}

func (*ClearNodeHistory) Kind() string     { return "status.clear-node" }
func (*ClearNodeHistory) Section() Section { return SectionStatus }
func (c *ClearNodeHistory) Apply(x *cib.CIB) error {
	ns := nodeStatus(x, c.Node)
	if c.Boot != "" && ns.Boot == c.Boot {
		return nil
	}
	if c.Boot != "" {
		ns.Boot = c.Boot
	}
	ns.Resources = nil
	ns.Attributes = nil
	return nil
}

func init() { register(func() Command { return &ForgetResource{} }) }

// ForgetResource drops a resource's history and failure attributes on a
// node (all nodes when Node is empty): what is left of a deleted resource
// once it is known to be stopped there.
type ForgetResource struct {
	Resource string `json:"resource"`
	Node     string `json:"node,omitempty"`
}

func (*ForgetResource) Kind() string     { return "status.forget" }
func (*ForgetResource) Section() Section { return SectionStatus }
func (c *ForgetResource) Apply(x *cib.CIB) error {
	if c.Resource == "" {
		return errorf(ErrInvalid, "name the resource to forget")
	}
	for name, ns := range x.Status.Nodes {
		if c.Node != "" && name != c.Node {
			continue
		}
		delete(ns.Resources, c.Resource)
		for k := range ns.Attributes {
			if cib.IsFailAttr(k, c.Resource) {
				delete(ns.Attributes, k)
			}
		}
	}
	return nil
}

func init() { register(func() Command { return &RecordFenceAttempt{} }) }

// RecordFenceAttempt appends fencing attempts to the fence history.
type RecordFenceAttempt struct {
	Events []cib.FenceEvent `json:"events"`
}

func (*RecordFenceAttempt) Kind() string     { return "status.fence-history" }
func (*RecordFenceAttempt) Section() Section { return SectionStatus }
func (c *RecordFenceAttempt) Apply(x *cib.CIB) error {
	if len(c.Events) == 0 {
		return errorf(ErrInvalid, "no fencing attempt to record")
	}
	x.FenceHistory = append(x.FenceHistory, c.Events...)
	if n := len(x.FenceHistory); n > cib.MaxFenceHistory {
		x.FenceHistory = x.FenceHistory[n-cib.MaxFenceHistory:]
	}
	return nil
}
