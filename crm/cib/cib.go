package cib

import "fmt"

// CIB is the whole cluster information base.
type CIB struct {
	Version Version       `json:"version"`
	Config  Configuration `json:"configuration"`
	Status  Status        `json:"status"`
	// FenceHistory is every recent fencing attempt, oldest first.
	FenceHistory []FenceEvent `json:"fence_history,omitempty"`
}

// Version mirrors Pacemaker's three counters. AdminEpoch is raised only by
// an administrator (to force one CIB over another), Epoch on every
// configuration change, NumUpdates on every status change and reset to
// zero when Epoch moves. Versions compare as the tuple in that order.
type Version struct {
	AdminEpoch uint64 `json:"admin_epoch"`
	Epoch      uint64 `json:"epoch"`
	NumUpdates uint64 `json:"num_updates"`
}

// String prints "admin_epoch.epoch.num_updates" as crm_mon shows it.
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.AdminEpoch, v.Epoch, v.NumUpdates)
}

// Less orders versions as Pacemaker compares CIBs.
func (v Version) Less(o Version) bool {
	if v.AdminEpoch != o.AdminEpoch {
		return v.AdminEpoch < o.AdminEpoch
	}
	if v.Epoch != o.Epoch {
		return v.Epoch < o.Epoch
	}
	return v.NumUpdates < o.NumUpdates
}

// Configuration is everything an administrator writes.
type Configuration struct {
	Properties    map[string]string `json:"properties,omitempty"`
	Nodes         []Node            `json:"nodes,omitempty"`
	Resources     []Resource        `json:"resources,omitempty"`
	Constraints   Constraints       `json:"constraints"`
	RscDefaults   map[string]string `json:"rsc_defaults,omitempty"`
	OpDefaults    map[string]string `json:"op_defaults,omitempty"`
	FencingLevels []FencingLevel    `json:"fencing_levels,omitempty"`
	Alerts        []Alert           `json:"alerts,omitempty"`
}

// New returns an empty CIB at version 0.0.0.
func New() *CIB {
	return &CIB{Status: Status{Nodes: map[string]*NodeStatus{}}}
}

// FencingLevel is one rung of a node's fencing topology: every device in
// it must succeed; levels are tried in Index order until one does.
type FencingLevel struct {
	ID      string   `json:"id"`
	Target  string   `json:"target"`
	Index   int      `json:"index"`
	Devices []string `json:"devices"`
}
