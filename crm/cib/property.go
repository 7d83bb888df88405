package cib

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ValueKind says how an option's value is checked.
type ValueKind int

const (
	KindString ValueKind = iota
	KindBool
	KindInt      // integer, may be INFINITY where the option says so
	KindScore    // INFINITY, -INFINITY or an integer
	KindDuration // 10s, 1min, 500ms
	KindEnum
)

// Option describes one cluster property or meta attribute.
type Option struct {
	Name    string
	Kind    ValueKind
	Default string
	Enum    []string
	Help    string
}

// Properties are the cluster options pacer honours, with Pacemaker's
// names and defaults so an imported CIB means the same thing.
var Properties = optionTable(
	Option{"cluster-name", KindString, "", nil, "Name shown by status."},
	Option{"stonith-enabled", KindBool, "true", nil, "Fence nodes that may still run resources before recovering them elsewhere."},
	Option{"stonith-timeout", KindDuration, "60s", nil, "How long one fencing action may take."},
	Option{"stonith-action", KindEnum, "reboot", []string{"reboot", "off", "poweroff"}, "What fencing does to a node: reboot it or power it off."},
	Option{"no-quorum-policy", KindEnum, "stop", []string{"stop", "freeze", "ignore", "suicide"}, "What a partition without quorum does with its resources."},
	Option{"symmetric-cluster", KindBool, "true", nil, "Resources may run anywhere unless a constraint says otherwise (false: opt-in)."},
	Option{"maintenance-mode", KindBool, "false", nil, "Stop managing every resource (nothing is started, stopped or monitored)."},
	Option{"stop-all-resources", KindBool, "false", nil, "Stop every resource."},
	Option{"start-failure-is-fatal", KindBool, "true", nil, "A failed start bans the resource from that node."},
	Option{"cluster-recheck-interval", KindDuration, "15min", nil, "Re-run the scheduler at least this often (failure-timeout expiry)."},
	Option{"two-node", KindBool, "false", nil, "Two-node mode: the survivor fences its peer and carries on alone."},
	Option{"wait-for-all", KindBool, "true", nil, "A node booting alone waits to see its peer once before taking over (two-node mode)."},
	Option{"priority-fencing-delay", KindDuration, "0", nil, "Delay fencing of the node with the higher total resource priority."},
	Option{"dc-version", KindString, "", nil, "Version of the DC (informational)."},
	Option{"cluster-infrastructure", KindString, "", nil, "Informational."},
	Option{"have-watchdog", KindBool, "false", nil, "Informational."},
	Option{"last-lrm-refresh", KindString, "", nil, "Informational."},
)

// MetaAttributes are the resource meta attributes pacer honours.
var MetaAttributes = optionTable(
	Option{"target-role", KindEnum, "Started", []string{"Started", "Stopped"}, "Whether the cluster should keep the resource running."},
	Option{"resource-stickiness", KindScore, "0", nil, "Preference for staying where it runs now."},
	Option{"migration-threshold", KindInt, "INFINITY", nil, "Failures on a node after which the resource is banned from it."},
	Option{"failure-timeout", KindDuration, "0", nil, "Forget failures this old (0: never)."},
	Option{"priority", KindInt, "0", nil, "Resources with higher priority are placed first."},
	Option{"is-managed", KindBool, "true", nil, "false: never start, stop or recover it."},
	Option{"clone-max", KindInt, "", nil, "Copies of a clone (default: number of nodes)."},
	Option{"clone-node-max", KindInt, "1", nil, "Copies of a clone on one node (anonymous clones: at most 1)."},
	Option{"interleave", KindBool, "false", nil, "Informational for anonymous clones."},
	Option{"ordered", KindBool, "false", nil, "Informational for anonymous clones."},
	Option{"globally-unique", KindBool, "false", nil, "Only false (anonymous clones) is supported."},
	Option{"description", KindString, "", nil, "Free text."},
	Option{"agent-implementation", KindEnum, "", []string{"native", "script"}, "Where pacer has both, run its native agent or the OCF script (default: native IPaddr2; Dummy's script when installed)."},
)

// OpOnFail are the on-fail values of an operation.
var OpOnFail = []string{"ignore", "block", "stop", "restart", "fence", "standby", "demote"}

func optionTable(opts ...Option) map[string]Option {
	m := make(map[string]Option, len(opts))
	for _, o := range opts {
		m[o.Name] = o
	}
	return m
}

// OptionNames lists the table's names, sorted.
func OptionNames(t map[string]Option) []string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check validates v against o and returns an error naming the fix.
func (o Option) Check(v string) error {
	switch o.Kind {
	case KindBool:
		if _, ok := parseBool(v); !ok {
			return fmt.Errorf("%s=%q is not a boolean: use true or false", o.Name, v)
		}
	case KindInt:
		if strings.EqualFold(v, "INFINITY") {
			return nil
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%s=%q is not an integer: use e.g. 3 or INFINITY", o.Name, v)
		}
	case KindScore:
		if _, err := ParseScore(v); err != nil {
			return fmt.Errorf("%s=%q: %v", o.Name, v, err)
		}
	case KindDuration:
		if _, err := ParseDuration(v); err != nil {
			return fmt.Errorf("%s: %v", o.Name, err)
		}
	case KindEnum:
		for _, e := range o.Enum {
			if v == e {
				return nil
			}
		}
		return fmt.Errorf("%s=%q is not allowed: use one of %s", o.Name, v, strings.Join(o.Enum, ", "))
	}
	return nil
}

// IsTrue reads a Pacemaker boolean (true/on/yes/y/1).
func IsTrue(v string) bool {
	b, _ := parseBool(v)
	return b
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "on", "yes", "y", "1":
		return true, true
	case "false", "off", "no", "n", "0":
		return false, true
	}
	return false, false
}

// Property returns a cluster property, or its default when unset.
func (c *Configuration) Property(name string) string {
	if v, ok := c.Properties[name]; ok {
		return v
	}
	return Properties[name].Default
}
