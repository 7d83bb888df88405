package scheduler

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"pacer/crm/cib"
)

// scenario is one feature, in the spirit of Pacemaker's cts-scheduler
// list: a CIB, and what must come out. placement is checked for the
// listed resources only; actions and fencing exactly; steps when set.
type scenario struct {
	name      string
	desc      string
	build     func() *cl
	placement string   // "A=node1 B=stopped" (subset)
	fencing   []string // exact (nil = none)
	actions   []string // exact, in order ("move A node3->node2")
	steps     string   // exact when non-empty
}

func expr(attr, op, value, typ string) cib.Expression {
	return cib.Expression{Attribute: attr, Operation: op, Value: value, Type: typ}
}

func rulesCluster() *cl {
	return cluster("node1", "node2", "node3").
		nodeAttr("node1", "site", "a").nodeAttr("node1", "ram", "16").nodeAttr("node1", "ver", "1.10").
		nodeAttr("node2", "site", "B").nodeAttr("node2", "ram", "8").nodeAttr("node2", "ver", "1.9").
		nodeAttr("node3", "ram", "32")
}

var scenarios = []scenario{
	// --- tie-break and stickiness
	{name: "start-spread", desc: "stopped resources spread over nodes: fewest placed, then name",
		build:     func() *cl { return cluster("node1", "node2", "node3").prim("A").prim("B").prim("C") },
		placement: "A=node1 B=node2 C=node3",
		actions:   []string{"start A ->node1", "start B ->node2", "start C ->node3"},
		steps:     "start:A:node1 start:B:node2 start:C:node3"},
	{name: "stay-current", desc: "equal scores and counts: the current node wins over name order",
		build:     func() *cl { return cluster("node1", "node2", "node3").prim("A").running("A", "node2") },
		placement: "A=node2"},
	{name: "rebalance-without-stickiness", desc: "without stickiness the fewest-resources tie-break moves a resource",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").prim("B").running("A", "node1").running("B", "node1")
		},
		placement: "A=node1 B=node2", actions: []string{"move B node1->node2"}},
	{name: "stickiness-rsc-defaults", desc: "rsc_defaults resource-stickiness keeps both in place",
		build: func() *cl {
			return cluster("node1", "node2", "node3").defaults("resource-stickiness", "1").
				prim("A").prim("B").running("A", "node1").running("B", "node1")
		},
		placement: "A=node1 B=node1"},
	{name: "stickiness-beats-location", desc: "stickiness 100 outweighs a location preference of 50",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "resource-stickiness", "100").running("A", "node1").
				loc("l", "A", "node2", "50")
		},
		placement: "A=node1"},
	{name: "location-beats-stickiness", desc: "a location preference of 200 outweighs stickiness 100",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "resource-stickiness", "100").running("A", "node1").
				loc("l", "A", "node2", "200")
		},
		placement: "A=node2", actions: []string{"move A node1->node2"}},
	{name: "priority-first", desc: "higher priority resources are placed first and get the emptier node",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").prim("B").prim("C", "priority", "10")
		},
		placement: "A=node2 B=node1 C=node1"},

	// --- location and rules
	{name: "location-ban", desc: "-INFINITY location bans nodes",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").loc("l1", "A", "node1", "-INFINITY").loc("l2", "A", "node2", "-INFINITY")
		},
		placement: "A=node3", actions: []string{"start A ->node3"}},
	{name: "infinity-minus-infinity", desc: "INFINITY + -INFINITY = -INFINITY: the ban wins",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").loc("l1", "A", "node1", "INFINITY").loc("l2", "A", "node1", "-INFINITY")
		},
		placement: "A=node2"},
	{name: "opt-in-cluster", desc: "symmetric-cluster=false: only explicitly allowed nodes",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prop("symmetric-cluster", "false").
				prim("A").prim("B").prim("C").loc("l", "A", "node2", "100").running("C", "node1")
		},
		placement: "A=node2 B=stopped C=stopped",
		actions:   []string{"start A ->node2", "stop C node1->"}},
	{name: "rule-eq-string", desc: "rule site eq A (case-insensitive string)",
		build:     func() *cl { return rulesCluster().prim("A").rule("r", "A", "100", "", expr("site", "eq", "A", "")) },
		placement: "A=node1"},
	{name: "rule-ne-undefined", desc: "ne matches nodes without the attribute",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "-INFINITY", "", expr("site", "ne", "a", ""))
		},
		placement: "A=node1"},
	{name: "rule-gt-integer", desc: "gt compares as integers by default",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "-INFINITY", "", expr("ram", "gt", "10", ""))
		},
		placement: "A=node2"},
	{name: "rule-lt", desc: "lt 10 matches ram=8 only",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "INFINITY", "", expr("ram", "lt", "10", ""))
		},
		placement: "A=node2"},
	{name: "rule-gte-lte-and", desc: "gte and lte combined with and",
		build: func() *cl {
			return rulesCluster().prim("A").prim("B").rule("r", "B", "100", "and", expr("ram", "gte", "16", ""), expr("ram", "lte", "16", ""))
		},
		placement: "B=node1"},
	{name: "rule-not-defined", desc: "not_defined matches the node without site",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "100", "", expr("site", "not_defined", "", ""))
		},
		placement: "A=node3"},
	{name: "rule-defined", desc: "defined site, -INFINITY",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "-INFINITY", "", expr("site", "defined", "", ""))
		},
		placement: "A=node3"},
	{name: "rule-uname-or", desc: "#uname with or",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "-INFINITY", "or", expr("#uname", "eq", "node1", ""), expr("#uname", "eq", "node2", ""))
		},
		placement: "A=node3"},
	{name: "rule-version", desc: "version type: 1.10 > 1.9.5 > 1.9",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "100", "", expr("ver", "gt", "1.9.5", "version"))
		},
		placement: "A=node1"},
	{name: "rule-number", desc: "a '.' makes gt compare as numbers",
		build: func() *cl {
			return rulesCluster().prim("A").rule("r", "A", "-INFINITY", "", expr("ram", "gt", "8.5", ""))
		},
		placement: "A=node2"},

	// --- colocation
	{name: "coloc-mandatory", desc: "B with A INFINITY follows A",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").prim("B").loc("l", "A", "node3", "100").coloc("c", "B", "A", "INFINITY")
		},
		placement: "A=node3 B=node3"},
	{name: "coloc-mandatory-primary-stopped", desc: "B with A INFINITY stops when A must stop",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "target-role", "Stopped").prim("B").
				running("A", "node1").running("B", "node1").coloc("c", "B", "A", "INFINITY")
		},
		placement: "A=stopped B=stopped",
		actions:   []string{"stop A node1->", "stop B node1->"},
		steps:     "stop:B:node1 stop:A:node1"},
	{name: "coloc-advisory-loses", desc: "advisory colocation 50 loses to a location of 100",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").prim("B").loc("l", "A", "node2", "100").
				coloc("c", "B", "A", "50").loc("l2", "B", "node3", "100")
		},
		placement: "A=node2 B=node3"},
	{name: "coloc-advisory-wins", desc: "advisory colocation 50 beats a location of 30",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").prim("B").loc("l", "A", "node2", "100").
				coloc("c", "B", "A", "50").loc("l2", "B", "node3", "30")
		},
		placement: "A=node2 B=node2"},
	{name: "anti-colocation", desc: "B with A -INFINITY avoids A's node despite a location",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A", "resource-stickiness", "200").prim("B").running("A", "node1").
				coloc("c", "B", "A", "-INFINITY").loc("l", "B", "node1", "100")
		},
		placement: "A=node1 B=node2"},
	{name: "coloc-chain", desc: "C with B with A: a chain follows A",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").prim("B").prim("C").loc("l", "A", "node3", "100").
				coloc("c1", "B", "A", "INFINITY").coloc("c2", "C", "B", "INFINITY")
		},
		placement: "A=node3 B=node3 C=node3"},
	{name: "coloc-chain-pull", desc: "a dependent's INFINITY preference pulls the whole chain",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").prim("B").prim("C").loc("l", "A", "node3", "100").
				loc("l2", "C", "node2", "INFINITY").coloc("c1", "B", "A", "INFINITY").coloc("c2", "C", "B", "INFINITY")
		},
		placement: "A=node2 B=node2 C=node2"},
	{name: "coloc-with-group", desc: "a primitive colocated with a group joins it",
		build: func() *cl {
			return cluster("node1", "node2", "node3").group("g", []string{"a", "b"}).prim("vip").
				loc("l", "g", "node2", "100").coloc("c", "vip", "g", "INFINITY")
		},
		placement: "a=node2 b=node2 vip=node2"},
	{name: "group-with-primitive", desc: "a group colocated with a primitive follows it",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").group("g", []string{"a", "b"}).
				loc("l", "A", "node3", "100").coloc("c", "g", "A", "INFINITY")
		},
		placement: "A=node3 a=node3 b=node3"},

	// --- order
	{name: "order-first-cannot-start", desc: "mandatory order: then cannot start if first cannot",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "target-role", "Stopped").prim("B").order("o", "A", "B", "", true)
		},
		placement: "A=stopped B=stopped", actions: []string{"start B ->node1 (blocked)"}},
	{name: "order-first-stops-then", desc: "mandatory order: a running then stops when first cannot run",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "target-role", "Stopped").prim("B").running("B", "node2").
				order("o", "A", "B", "Mandatory", true)
		},
		placement: "B=stopped", actions: []string{"stop B node2->"}},
	{name: "order-optional", desc: "optional order: then is not affected",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "target-role", "Stopped").prim("B").running("B", "node2").
				order("o", "A", "B", "Optional", true)
		},
		placement: "B=node2"},
	{name: "order-restart", desc: "first recovers in place: then restarts around it",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").prim("B").running("A", "node1").running("B", "node2").
				monitorFailed("A", "node1", t0.Add(-time.Minute)).order("o", "A", "B", "", true)
		},
		placement: "A=node1 B=node2",
		actions:   []string{"recover A node1->node1", "restart B node2->node2"},
		steps:     "stop:B:node2 stop:A:node1 start:A:node1 start:B:node2"},
	{name: "order-asymmetric", desc: "non-symmetrical: moving first does not restart then or order stops",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A", "resource-stickiness", "10").prim("B").
				running("A", "node1").running("B", "node3").loc("l", "A", "node2", "100").order("o", "A", "B", "", false)
		},
		placement: "A=node2 B=node3", actions: []string{"move A node1->node2"}},
	{name: "order-symmetric-move", desc: "symmetrical: moving first restarts then",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A", "resource-stickiness", "10").prim("B").
				running("A", "node1").running("B", "node3").loc("l", "A", "node2", "100").order("o", "A", "B", "", true)
		},
		placement: "A=node2 B=node3",
		actions:   []string{"move A node1->node2", "restart B node3->node3"},
		steps:     "stop:B:node3 stop:A:node1 start:A:node2 start:B:node3"},
	{name: "order-group-then", desc: "a group that cannot start blocks what is ordered after it",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b"}).prim("A").meta("b", "target-role", "Stopped").
				order("o", "g", "A", "", true)
		},
		placement: "a=node1 b=stopped A=stopped",
		actions:   []string{"start a ->node1", "start A ->node2 (blocked)"}},

	// --- groups
	{name: "group-start-order", desc: "members start in order on one node",
		build:     func() *cl { return cluster("node1", "node2").group("g", []string{"a", "b", "c"}) },
		placement: "a=node1 b=node1 c=node1",
		steps:     "start:a:node1 start:b:node1 start:c:node1"},
	{name: "group-stop-reverse", desc: "members stop in reverse order",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b", "c"}, "target-role", "Stopped").
				running("a", "node1").running("b", "node1").running("c", "node1")
		},
		placement: "a=stopped b=stopped c=stopped",
		steps:     "stop:c:node1 stop:b:node1 stop:a:node1"},
	{name: "group-stickiness-sum-stays", desc: "3 members × stickiness 100 = 300 beats a location of 250",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b", "c"}, "resource-stickiness", "100").
				running("a", "node1").running("b", "node1").running("c", "node1").loc("l", "g", "node2", "250")
		},
		placement: "a=node1 b=node1 c=node1"},
	{name: "group-stickiness-sum-moves", desc: "a location of 350 beats the group's 300",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b", "c"}, "resource-stickiness", "100").
				running("a", "node1").running("b", "node1").running("c", "node1").loc("l", "g", "node2", "350")
		},
		placement: "a=node2 b=node2 c=node2",
		actions:   []string{"move a node1->node2", "move b node1->node2", "move c node1->node2"},
		steps:     "stop:c:node1 stop:b:node1 stop:a:node1 start:a:node2 start:b:node2 start:c:node2"},
	{name: "group-member-banned-moves-group", desc: "fail-count of a member at the threshold moves the whole group",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b"}, "migration-threshold", "3", "resource-stickiness", "100").
				running("a", "node1").running("b", "node1").failcount("b", "node1", "3", t0.Add(-time.Minute))
		},
		placement: "a=node2 b=node2",
		actions:   []string{"move a node1->node2", "move b node1->node2"}},
	{name: "group-tail-cannot-run", desc: "a member that cannot run anywhere stops; the ones before it stay",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b", "c"}).running("a", "node1").running("b", "node1").
				running("c", "node1").loc("l1", "b", "node1", "-INFINITY").loc("l2", "b", "node2", "-INFINITY")
		},
		placement: "a=node1 b=stopped c=stopped",
		actions:   []string{"stop b node1->", "stop c node1->"},
		steps:     "stop:c:node1 stop:b:node1"},
	{name: "group-member-recover-restarts-rest", desc: "a recovered member restarts the members after it",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b", "c"}).running("a", "node1").running("b", "node1").
				running("c", "node1").monitorFailed("b", "node1", t0.Add(-time.Minute))
		},
		placement: "a=node1 b=node1 c=node1",
		actions:   []string{"recover b node1->node1", "restart c node1->node1"},
		steps:     "stop:c:node1 stop:b:node1 start:b:node1 start:c:node1"},
	{name: "group-location", desc: "a location on the group places all members",
		build: func() *cl {
			return cluster("node1", "node2").group("g", []string{"a", "b"}).loc("l", "g", "node2", "100")
		},
		placement: "a=node2 b=node2"},

	// --- target-role, management
	{name: "target-role-stopped", desc: "target-role=Stopped stops a running resource",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "target-role", "Stopped").running("A", "node1")
		},
		placement: "A=stopped", actions: []string{"stop A node1->"}},
	{name: "unmanaged", desc: "is-managed=false: left where it is even when banned",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "is-managed", "false").running("A", "node1").loc("l", "A", "node1", "-INFINITY")
		},
		placement: "A=node1"},
	{name: "maintenance-mode", desc: "maintenance-mode: nothing is started or stopped",
		build: func() *cl {
			return cluster("node1", "node2").prop("maintenance-mode", "true").prim("A", "target-role", "Stopped").
				prim("B").running("A", "node1")
		},
		placement: "A=node1 B=stopped"},
	{name: "node-maintenance", desc: "resources on a node in maintenance are left alone, nothing new goes there",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").prim("B").running("A", "node1").nodeAttr("node1", "maintenance", "true")
		},
		placement: "A=node1 B=node2", actions: []string{"start B ->node2"}},
	{name: "stop-all-resources", desc: "stop-all-resources stops everything",
		build: func() *cl {
			return cluster("node1", "node2").prop("stop-all-resources", "true").prim("A").running("A", "node1")
		},
		placement: "A=stopped", actions: []string{"stop A node1->"}},

	// --- failures
	{name: "failcount-ban", desc: "fail-count 3 ≥ migration-threshold 3 bans the node",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "migration-threshold", "3").running("A", "node1").
				failcount("A", "node1", "3", t0.Add(-time.Minute))
		},
		placement: "A=node2", actions: []string{"move A node1->node2"}},
	{name: "failcount-below", desc: "fail-count 2 < 3 keeps it",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "migration-threshold", "3").running("A", "node1").
				failcount("A", "node1", "2", t0.Add(-time.Minute))
		},
		placement: "A=node1"},
	{name: "failed-monitor-recover-in-place", desc: "a failed monitor below the threshold recovers in place",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "migration-threshold", "3").running("A", "node1").
				monitorFailed("A", "node1", t0.Add(-time.Minute)).failcount("A", "node1", "1", t0.Add(-time.Minute))
		},
		placement: "A=node1", actions: []string{"recover A node1->node1"},
		steps: "stop:A:node1 start:A:node1"},
	{name: "failed-monitor-at-threshold", desc: "a failed monitor at the threshold recovers elsewhere",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "migration-threshold", "3").running("A", "node1").
				monitorFailed("A", "node1", t0.Add(-time.Minute)).failcount("A", "node1", "3", t0.Add(-time.Minute))
		},
		placement: "A=node2", actions: []string{"recover A node1->node2"},
		steps: "stop:A:node1 start:A:node2"},
	{name: "failure-timeout-expired", desc: "failures older than failure-timeout are forgotten",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "migration-threshold", "3", "failure-timeout", "10min").running("A", "node1").
				monitorFailed("A", "node1", t0.Add(-20*time.Minute)).failcount("A", "node1", "3", t0.Add(-20*time.Minute))
		},
		placement: "A=node1"},
	{name: "failure-timeout-not-expired", desc: "a failure younger than failure-timeout still counts",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "migration-threshold", "3", "failure-timeout", "10min").running("A", "node1").
				monitorFailed("A", "node1", t0.Add(-5*time.Minute)).failcount("A", "node1", "3", t0.Add(-5*time.Minute))
		},
		placement: "A=node2", actions: []string{"recover A node1->node2"}},
	{name: "on-fail-ignore", desc: "a failure with on-fail=ignore is not recovered",
		build: func() *cl {
			x := cluster("node1", "node2").prim("A")
			x.c.Config.Resources[0].Primitive.Ops[0].OnFail = "ignore"
			return x.running("A", "node1").monitorFailed("A", "node1", t0.Add(-time.Minute))
		},
		placement: "A=node1", actions: none},
	{name: "on-fail-stop", desc: "a failure with on-fail=stop stops it for good",
		build: func() *cl {
			x := cluster("node1", "node2").prim("A")
			x.c.Config.Resources[0].Primitive.Ops[0].OnFail = "stop"
			return x.running("A", "node1").monitorFailed("A", "node1", t0.Add(-time.Minute))
		},
		placement: "A=stopped", actions: []string{"stop A node1->"}},
	{name: "hard-error-bans-node", desc: "a start that failed with 'not installed' bans the node",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").probedStopped("A", "node1").rec("node1", "A", "start", 0, 5, t0.Add(-time.Minute))
		},
		placement: "A=node2", actions: []string{"recover A node1->node2"}},
	{name: "probe-found-running", desc: "a probe with rc 0 means active there",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").rec("node2", "A", "monitor", 0, 0, t0.Add(-time.Minute))
		},
		placement: "A=node2"},
	{name: "monitor-expected-not-running", desc: "a monitor that was run expecting 'not running' (rc 7) is no failure",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "resource-stickiness", "100").probedStopped("A", "node2").
				rec("node1", "A", "start", 0, 0, t0.Add(-time.Hour)).rec("node1", "A", "stop", 0, 0, t0.Add(-30*time.Minute)).
				recExpect("node1", "A", "monitor", 20000, 7, 7, t0.Add(-time.Minute))
		},
		placement: "A=node1", actions: []string{"start A ->node1"}},
	{name: "multiply-active", desc: "active on two nodes: stopped on both, started on one",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").running("A", "node1").running("A", "node2")
		},
		placement: "A=node1", actions: []string{"recover A node1->node1"},
		steps: "stop:A:node1 stop:A:node2 start:A:node1"},
	{name: "orphan-stopped", desc: "a resource active but no longer configured is stopped",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").running("old", "node1")
		},
		placement: "old=stopped", actions: []string{"start A ->node1", "stop old node1->"}},

	// --- nodes
	{name: "standby", desc: "a node in standby is emptied",
		build: func() *cl {
			return cluster("node1", "node2").prim("A", "resource-stickiness", "100").running("A", "node1").standby("node1")
		},
		placement: "A=node2", actions: []string{"move A node1->node2"}},
	{name: "shutdown", desc: "a node shutting down is emptied",
		build: func() *cl {
			x := cluster("node1", "node2").prim("A").running("A", "node1")
			x.c.Status.Nodes["node1"].Attributes = map[string]string{"shutdown": "1700000000"}
			return x
		},
		placement: "A=node2", actions: []string{"move A node1->node2"}},
	{name: "pending-node", desc: "a node that has not joined gets nothing",
		build: func() *cl {
			x := cluster("node1", "node2").prim("A").prim("B")
			x.c.Status.Nodes["node1"].Join = "pending"
			return x
		},
		placement: "A=node2 B=node2"},
	{name: "left-cleanly", desc: "a node that left cleanly is offline, not fenced",
		build: func() *cl {
			return cluster("node1", "node2", "node3").fencing().prim("A").left("node3").loc("l", "A", "node3", "100")
		},
		placement: "A=node2 fence=node1"},

	// --- fencing and quorum
	{name: "lost-node-fenced", desc: "an unclean node is fenced and its resources recovered after the fence",
		build: func() *cl {
			return cluster("node1", "node2", "node3").fencing().prim("A").running("fence", "node1").running("A", "node3").lost("node3")
		},
		placement: "A=node2 fence=node1", fencing: []string{"node3"},
		actions: []string{"move A node3->node2"},
		steps:   "fence:node3 start:A:node2"},
	{name: "unseen-node-fenced", desc: "a configured node never seen is fenced (startup fencing)",
		build: func() *cl {
			return cluster("node1", "node2", "node3").fencing().prim("A").running("fence", "node1").running("A", "node2").unseen("node3")
		},
		placement: "A=node2", fencing: []string{"node3"}},
	{name: "offline-with-active-resource", desc: "a cleanly left node still showing an active resource is fenced",
		build: func() *cl {
			return cluster("node1", "node2", "node3").fencing().prim("A").running("fence", "node1").running("A", "node3").left("node3")
		},
		placement: "A=node2", fencing: []string{"node3"}, actions: []string{"move A node3->node2"}},
	{name: "lost-node-no-stonith", desc: "stonith-enabled=false: resources of a lost node are assumed stopped",
		build: func() *cl {
			return cluster("node1", "node2", "node3").prim("A").running("A", "node3").lost("node3")
		},
		placement: "A=node1", actions: []string{"start A ->node1"}},
	{name: "stonith-no-device", desc: "fencing enabled without a device: nothing is managed",
		build: func() *cl {
			return cluster("node1", "node2").prop("stonith-enabled", "true").prim("A").prim("B").running("B", "node1").
				prop("stop-all-resources", "true")
		},
		placement: "A=stopped B=node1"},
	{name: "lost-node-no-quorum", desc: "without quorum an unclean node is not fenced; its resources stay blocked",
		build: func() *cl {
			return cluster("node1", "node2", "node3").fencing().prim("A").running("fence", "node1").running("A", "node3").
				lost("node3").noQuorum()
		},
		placement: "A=node3 fence=stopped",
		actions:   []string{"stop fence node1->", "move A node3->node2 (blocked)"}},
	{name: "no-quorum-stop", desc: "no-quorum-policy=stop: everything stops",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").prim("B").running("A", "node1").noQuorum()
		},
		placement: "A=stopped B=stopped",
		actions:   []string{"stop A node1->", "start B ->node2 (blocked)"}},
	{name: "no-quorum-freeze", desc: "no-quorum-policy=freeze: running resources stay, stopped ones stay stopped",
		build: func() *cl {
			return cluster("node1", "node2").prop("no-quorum-policy", "freeze").prim("A").prim("B").running("A", "node1").noQuorum()
		},
		placement: "A=node1 B=stopped"},
	{name: "no-quorum-ignore", desc: "no-quorum-policy=ignore: business as usual",
		build: func() *cl {
			return cluster("node1", "node2").prop("no-quorum-policy", "ignore").prim("A").prim("B").running("A", "node1").noQuorum()
		},
		placement: "A=node1 B=node2", actions: []string{"start B ->node2"}},
	{name: "no-quorum-ignore-fences", desc: "no-quorum-policy=ignore: an unclean node is fenced",
		build: func() *cl {
			return cluster("node1", "node2").prop("no-quorum-policy", "ignore").fencing().prim("A").running("fence", "node1").
				running("A", "node2").lost("node2").noQuorum()
		},
		placement: "A=node1", fencing: []string{"node2"}, actions: []string{"move A node2->node1"}},
	{name: "failed-stop-fences", desc: "a failed stop with fencing enabled fences the node",
		build: func() *cl {
			return cluster("node1", "node2").fencing().prim("A").running("fence", "node2").running("A", "node1").
				rec("node1", "A", "stop", 0, 1, t0.Add(-time.Minute))
		},
		placement: "A=node2", fencing: []string{"node1"}, actions: []string{"recover A node1->node2"},
		steps: "fence:node1 start:A:node2"},
	{name: "failed-stop-blocks", desc: "a failed stop without fencing blocks the resource",
		build: func() *cl {
			return cluster("node1", "node2").prim("A").running("A", "node1").rec("node1", "A", "stop", 0, 1, t0.Add(-time.Minute))
		},
		placement: "A=node1"},

	// --- clones
	{name: "clone-every-node", desc: "an anonymous clone runs one instance per node",
		build:     func() *cl { return cluster("node1", "node2", "node3").clone("c", "p") },
		placement: "p:0=node1 p:1=node2 p:2=node3"},
	{name: "clone-max", desc: "clone-max=2 limits the instances",
		build:     func() *cl { return cluster("node1", "node2", "node3").clone("c", "p", "clone-max", "2") },
		placement: "p:0=node1 p:1=node2"},
	{name: "clone-node-max", desc: "clone-node-max=2 is ignored: an anonymous clone runs one copy per node (as Pacemaker)",
		build:     func() *cl { return cluster("node1", "node2").clone("c", "p", "clone-max", "4", "clone-node-max", "2") },
		placement: "p:0=node1 p:1=node2 p:2=stopped p:3=stopped"},
	{name: "clone-running-stable", desc: "running copies keep their nodes; the missing one starts",
		build: func() *cl {
			return cluster("node1", "node2", "node3").clone("c", "p").running("p", "node2").running("p", "node3")
		},
		placement: "p:0=node2 p:1=node3 p:2=node1", actions: []string{"start p:2 ->node1"}},
	{name: "clone-node-lost", desc: "an instance on a fenced node stops; there is nowhere else for it",
		build: func() *cl {
			return cluster("node1", "node2", "node3").fencing().clone("c", "p").running("fence", "node1").
				running("p", "node1").running("p", "node2").running("p", "node3").lost("node3")
		},
		placement: "p:0=node1 p:1=node2 p:2=stopped", fencing: []string{"node3"},
		actions: []string{"stop p:2 node3->"}},
	{name: "coloc-with-clone", desc: "a resource colocated with a clone runs only where an instance runs",
		build: func() *cl {
			return cluster("node1", "node2", "node3").clone("c", "p", "clone-max", "2").prim("vip").
				loc("l", "vip", "node1", "-INFINITY").coloc("cc", "vip", "c", "INFINITY").running("p", "node2").running("p", "node3")
		},
		placement: "p:0=node2 p:1=node3 vip=node2", actions: []string{"start vip ->node2"}},
	{name: "clone-follows-dependent", desc: "a dependent's preference pulls a clone instance to its node",
		build: func() *cl {
			return cluster("node1", "node2", "node3").clone("c", "p", "clone-max", "2").prim("vip").
				loc("l", "vip", "node3", "100").coloc("cc", "vip", "c", "INFINITY")
		},
		placement: "p:0=node3 p:1=node1 vip=node3"},
	{name: "order-clone-then", desc: "a resource ordered after a clone that cannot start is blocked",
		build: func() *cl {
			return cluster("node1", "node2").clone("c", "p", "target-role", "Stopped").prim("vip").order("o", "c", "vip", "", true)
		},
		placement: "vip=stopped", actions: []string{"start vip ->node1 (blocked)"}},
	{name: "clone-of-group", desc: "a cloned group runs one group instance per node",
		build:     func() *cl { return cluster("node1", "node2").cloneGroup("c", "g", []string{"a", "b"}) },
		placement: "a:0=node1 b:0=node1 a:1=node2 b:1=node2"},
	{name: "clone-keeps-running-instances", desc: "a dependent's preference is met by the stopped instance, not by moving a running one",
		build: func() *cl {
			return cluster("node1", "node2", "node3").clone("c", "p").prim("vip").running("p", "node1").running("p", "node2").
				loc("l", "vip", "node3", "100").coloc("cc", "vip", "c", "INFINITY")
		},
		placement: "p:0=node1 p:1=node2 p:2=node3 vip=node3", actions: []string{"start p:2 ->node3", "start vip ->node3"}},
	{name: "clone-sticky-by-default", desc: "clones have resource-stickiness 1 by default: a location of 1 does not move an instance",
		build: func() *cl {
			return cluster("node1", "node2").clone("c", "p", "clone-max", "1").running("p", "node2").loc("l", "c", "node1", "1")
		},
		placement: "p:0=node2", actions: none},
	{name: "clone-failcount-bans-clone", desc: "an instance at its threshold bans the clone from that node",
		build: func() *cl {
			return cluster("node1", "node2", "node3").clone("c", "p", "clone-max", "2", "migration-threshold", "1").
				running("p", "node1").running("p", "node2").failcount("p", "node1", "1", t0.Add(-time.Minute))
		},
		placement: "p:0=node3 p:1=node2", actions: []string{"move p:0 node1->node3"}},
}

// none asserts that nothing changes.
var none = []string{}

func TestScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			tr := sc.build().schedule(t)
			checkScenario(t, sc, tr)
		})
	}
}

func checkScenario(t *testing.T, sc scenario, tr *Transition) {
	t.Helper()
	for _, kv := range strings.Fields(sc.placement) {
		k, v, _ := strings.Cut(kv, "=")
		if got := tr.Placement[k]; got != v {
			t.Errorf("%s: placement %s = %q, want %q\n(all: %s)", sc.desc, k, got, v, placementText(tr))
		}
	}
	if got := tr.Fencing; !(len(got) == 0 && len(sc.fencing) == 0) && !reflect.DeepEqual(got, sc.fencing) {
		t.Errorf("%s: fencing = %v, want %v", sc.desc, got, sc.fencing)
	}
	if sc.actions != nil {
		got := actionsText(tr)
		if !(len(got) == 0 && len(sc.actions) == 0) && !reflect.DeepEqual(got, sc.actions) {
			t.Errorf("%s: actions =\n  %q\nwant\n  %q", sc.desc, got, sc.actions)
		}
	}
	if sc.steps != "" && stepsText(tr) != sc.steps {
		t.Errorf("%s: steps = %q, want %q", sc.desc, stepsText(tr), sc.steps)
	}
}
