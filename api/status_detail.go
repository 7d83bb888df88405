package api

import (
	"time"

	"pacer/crm/cib"
)

// StatusDetail is what 'pcsctl mon' and the crm_mon-shaped outputs need
// beyond the plain status: the facts a person reads to decide whether the
// cluster is safe. It is embedded in StatusResponse, so its fields sit at
// the top level of the JSON; a daemon that predates them leaves them
// empty and the views show less.
type StatusDetail struct {
	// PacerVersion is the answering daemon's version.
	PacerVersion string `json:"pacer_version,omitempty"`
	// Properties are the cluster properties as configured (crm_config);
	// unset ones are absent and take their defaults.
	Properties map[string]string `json:"properties,omitempty"`
	// Votes are the Raft voters this node sees alive; Expected all voters.
	Votes         int `json:"quorum_votes,omitempty"`
	ExpectedVotes int `json:"quorum_expected_votes,omitempty"`
	// Witness names a vote-only member, with its gossip state.
	Witness      string `json:"witness,omitempty"`
	WitnessState string `json:"witness_state,omitempty"`
	// LastChange is the newest operation result or fencing in the CIB.
	LastChange time.Time `json:"last_change,omitzero"`
	// FenceHistory is the newest fencing attempts, oldest first.
	FenceHistory []cib.FenceEvent `json:"fence_history,omitempty"`
}

// NodeDetail is embedded in NodeStatus.
type NodeDetail struct {
	ID string `json:"id,omitempty"`
	// Unclean: the node left while expected up and is not fenced yet, so
	// whatever it ran may still run.
	Unclean bool `json:"unclean,omitempty"`
	// Fencing: the DC is fencing the node right now.
	Fencing bool `json:"fencing,omitempty"`
	// Attributes are the node's attributes, permanent and transient,
	// without standby, maintenance and the failure bookkeeping.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// ResourceDetail is embedded in ResourceStatus.
type ResourceDetail struct {
	// Failed: the newest operation on the node it runs (or ran) on failed.
	Failed bool `json:"failed,omitempty"`
	// Pending is "Starting", "Stopping" or "Monitoring" while the DC runs
	// such an action on it.
	Pending string `json:"pending,omitempty"`
	// Blocked is why the DC cannot do what it wants with the resource,
	// e.g. "cannot start: node2 is unclean and cannot be fenced".
	Blocked string `json:"blocked,omitempty"`
	// FailCount is the highest fail count on any node, with that node;
	// MigrationThreshold the resource's (or rsc_defaults'), "" when unset.
	FailCount          int    `json:"fail_count,omitempty"`
	FailCountNode      string `json:"fail_count_node,omitempty"`
	MigrationThreshold string `json:"migration_threshold,omitempty"`
	// Since is when the resource's newest operation result came in.
	Since time.Time `json:"since,omitzero"`
}
