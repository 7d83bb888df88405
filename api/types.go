package api

import (
	"time"

	"pacer/crm/cib"
	"pacer/crm/controller"
	"pacer/crm/store"
)

// StatusResponse is what 'pcsctl status' shows: one node's view of the
// cluster, with the CIB version that view was read at.
type StatusResponse struct {
	ClusterName string           `json:"cluster_name"`
	Node        string           `json:"node"`                 // the node that answered
	DC          string           `json:"dc"`                   // the Raft leader, "" when none
	Quorum      bool             `json:"quorum"`               // this node sees a leader
	Version     cib.Version      `json:"cib_version"`          // of the CIB read
	Index       uint64           `json:"raft_index"`           // last applied Raft index
	Nodes       []NodeStatus     `json:"nodes"`                // configured nodes, by name
	Resources   []ResourceStatus `json:"resources"`            // every primitive, document order
	Transition  *DCState         `json:"transition,omitempty"` // what the DC is doing, when known
	Failures    []FailedAction   `json:"failed_actions,omitempty"`
	Notes       []string         `json:"notes,omitempty"`
	// TwoNode is set while two-node mode is in effect.
	TwoNode *TwoNodeStatus `json:"two_node,omitempty"`
	StatusDetail
}

// TwoNodeStatus is two-node mode as the answering node sees it: who wins
// a fence race and why, and what this node is doing about its peer.
type TwoNodeStatus struct {
	Peer           string `json:"peer"`
	Winner         string `json:"winner"`      // fences at once when each loses the other
	Loser          string `json:"loser"`       // fences after loser_delay
	TieReason      string `json:"tie_reason"`  // why the winner wins
	LoserDelay     string `json:"loser_delay"` // e.g. "2s"
	Step           string `json:"step"`        // idle, wait, fence, blocked
	Reason         string `json:"reason"`
	WaitForAllMet  bool   `json:"wait_for_all_met"` // the peer was seen since start, or unblocked
	LastFenceError string `json:"last_fence_error,omitempty"`
}

// NodeStatus is one node as this node sees it.
type NodeStatus struct {
	Name        string `json:"name"`
	State       string `json:"state"`  // online, standby, maintenance, offline
	Gossip      string `json:"gossip"` // alive, suspect, dead, left, unknown
	Raft        string `json:"raft"`   // voter, nonvoter, none
	Standby     bool   `json:"standby"`
	Maintenance bool   `json:"maintenance"`
	Addr        string `json:"addr,omitempty"`
	Version     string `json:"version,omitempty"`
	NodeDetail
}

// FailedAction is one failed operation still on record (crm_mon's
// "Failed Resource Actions"), until 'pcsctl resource cleanup'.
type FailedAction struct {
	Resource   string    `json:"resource"`
	Node       string    `json:"node"`
	Op         string    `json:"op"`
	IntervalMS int64     `json:"interval_ms"`
	RC         int       `json:"rc"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"last_rc_change"`
	FailCount  string    `json:"fail_count,omitempty"`
	CallID     int64     `json:"call_id,omitempty"`
	ExecMS     int64     `json:"exec_time_ms,omitempty"`
	QueueMS    int64     `json:"queue_time_ms,omitempty"`
}

// ResourceStatus is one primitive.
type ResourceStatus struct {
	ID         string `json:"id"`
	Agent      string `json:"agent"`
	Group      string `json:"group,omitempty"`
	Clone      string `json:"clone,omitempty"`
	Role       string `json:"role"`           // Started, Stopped, Failed
	Node       string `json:"node,omitempty"` // where it runs, when it runs
	TargetRole string `json:"target_role"`
	Managed    bool   `json:"managed"`
	ResourceDetail
}

// CIBResponse carries the whole CIB and the Raft index it was read at.
type CIBResponse struct {
	CIB   *cib.CIB `json:"cib"`
	Index uint64   `json:"raft_index"`
	// Stale is set when a consistent read was asked for but the leader
	// could not be reached: the CIB is this node's copy, maybe behind.
	Stale string `json:"stale,omitempty"`
}

// ReadIndexResponse is the leader's answer to GET /v1/read-index.
type ReadIndexResponse struct {
	Index  uint64 `json:"raft_index"`
	Leader string `json:"leader"`
}

// WatchEvent is one line of GET /v1/watch: what changed, and the CIB
// version the node holds now. Type is hello, cib, members or ping.
type WatchEvent struct {
	Type    string      `json:"type"`
	Node    string      `json:"node"`
	Version cib.Version `json:"cib_version"`
	Index   uint64      `json:"raft_index"`
}

// DCState is what the DC is doing (GET /v1/dc).
type DCState struct {
	DC string `json:"dc"`
	controller.State
}

// CommandRequest is one typed CIB change.
type CommandRequest = store.Envelope

// CommandResponse tells the version the change produced; a client that
// reads from another node passes Index as min_index to see its own write.
type CommandResponse struct {
	Version cib.Version `json:"cib_version"`
	Index   uint64      `json:"raft_index"`
	Leader  string      `json:"leader"`
}

// MembersResponse is the gossip and Raft view, for 'pcsctl cluster status'.
type MembersResponse struct {
	Node    string         `json:"node"`
	Leader  string         `json:"leader"`
	Raft    string         `json:"raft_state"`
	Members []Member       `json:"members"`
	Servers []store.Server `json:"raft_servers"`
}

// Member is one gossip member.
type Member struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Gossip   string `json:"gossip_addr"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
	Version  string `json:"version"`
	Role     string `json:"role,omitempty"`
}

// ShutdownRequest asks a node to stop gracefully ('pcsctl cluster stop').
type ShutdownRequest struct {
	Reason string `json:"reason,omitempty"`
	// All asks the node to pass the request to every other member first.
	All bool `json:"all,omitempty"`
}
