// Package scheduler is pacer's policy engine (Pacemaker's
// pacemaker-schedulerd): a pure function from a CIB (configuration plus
// status), the partition's quorum and the current time to a Transition —
// where every primitive runs, which nodes are fenced, which resources
// start, stop, move, recover or restart and in what order, and the score
// table behind each decision.
//
// It must not do I/O, read the clock, start goroutines or keep global
// mutable state: Schedule(Input) is deterministic, so the DC, `pcsctl
// simulate` and tests all compute the same transition from the same
// input. Semantics follow Pacemaker's ("Pacemaker Explained") so that a
// cluster moved from Pacemaker behaves the same; differences are listed
// at the end.
//
// # Phases
//
// Schedule runs Pacemaker's phases in order, one file each: nodes.go
// (node states), resources.go (resource tree, meta attributes),
// status.go (operation history), location.go / colocation.go / order.go
// (constraints), scores.go (allowed-node tables), groups.go and clones.go
// (implicit constraints, group and clone assignment), assign.go (node
// choice), fencing.go, actions.go (stop/start per primitive), flags.go
// (required/runnable fixpoint over orderings), graph.go (steps) and
// explain.go (reasons).
//
// # Node states
//
// A configured node without a status entry has never been seen and is
// unclean (startup fencing). With stonith-enabled=true a node with a
// status entry is, in this order of checks:
//   - shutting down (transient attribute shutdown set): online if its
//     daemon answers; nothing new is placed on it;
//   - unclean if join=banned, or if fencing was requested (attribute
//     terminate) and it is not already down;
//   - expected down (expected != member): pending if it is in the
//     membership or its daemon answers, otherwise cleanly offline;
//   - unclean if it left the membership (in_ccm false) while expected up,
//     or if its daemon is gone (crmd false);
//   - online if join=member, pending if join is pending, down or empty,
//     unclean otherwise.
//
// With stonith-enabled=false a node is online when in_ccm, crmd and
// join=member; it is unclean only when it is in the membership with its
// daemon gone while expected up. A node whose status has Unclean set is
// always unclean. A node that is offline (cleanly) but whose history
// shows a managed resource active is made unclean when fencing is
// enabled ("vip is thought to be active there"). With
// no-quorum-policy=suicide and no quorum every online node is unclean.
// Standby and maintenance come from the node attributes of the same names
// (permanent or transient). A node can run resources when it is online,
// not unclean, not pending, not shutting down, not in standby and not in
// maintenance.
//
// An unclean node is fenced when fencing is enabled, a stonith device is
// configured, some resource is managed, and the partition has quorum (or
// no-quorum-policy=ignore, or the node is still in the membership).
// Resources on a fenced node are recovered elsewhere in the same
// transition, after the fence. An unclean node that cannot be fenced
// keeps its resources: their stops are blocked and so are their starts
// elsewhere. With fencing disabled, the history of offline nodes is not
// read and their resources are assumed stopped.
//
// # Resource state
//
// A resource's operations on a node are replayed in call-id order: a
// successful start (or promote, migrate_from) makes it active, a
// successful stop or any "not running" result (rc 7) on a probe makes it
// stopped, a probe or monitor with rc 0 makes it active. A failed
// operation (rc other than expected, or an executor error) marks the
// resource failed on that node with the operation's on-fail (default
// restart; for a failed stop, fence with fencing enabled, else block); a
// later successful stop, start or monitor of the same interval clears a
// restartable failure. A recurring monitor returning 7 is a failure (the
// resource died). A failed stop bans the node; hard errors (not
// installed, invalid parameters, insufficient privileges) ban the node;
// rc 6 (not configured) bans the resource everywhere. Failures older than
// failure-timeout (compared with Input.Now, against last_rc_change) are
// forgotten unless the resource still has an unexpired fail count there.
//
// Fail counts are the sums of the node's fail-count-RSC#op_interval
// attributes; they expire once Now is later than the newest
// last-failure-RSC#... attribute plus failure-timeout. A resource is
// banned (-INFINITY) from a node where its fail count reaches
// migration-threshold (default INFINITY, 0 disables it). A failed
// resource below the threshold is recovered in place (stickiness and the
// tie-break keep it there); an anonymous clone instance's failures ban
// the whole clone from the node.
//
// # Scores and placement
//
// Scores use ±INFINITY (1,000,000) saturating arithmetic in which
// -INFINITY wins (cib.Score.Add). Every resource starts with 0 on every
// node in a symmetric cluster, and on no node with
// symmetric-cluster=false (only location constraints admit nodes).
// Location constraints (by node or by rule; rules use eq, ne, lt, gt,
// lte, gte, defined, not_defined on node attributes including #uname,
// with and/or and string, integer, number or version comparison),
// resource-stickiness on the node a resource runs on (meta attribute, or
// rsc_defaults; a group's members inherit the group's, so the group's
// stickiness is the sum of its members'), bans from failures and
// colocations add up. A node whose total is negative, or that cannot run
// resources, is never chosen.
//
// Colocations are applied as Pacemaker does: the primary is placed
// first; a mandatory colocation (±INFINITY) then bans every node but the
// primary's (or the primary's node), an advisory one adds its score
// there, and while placing the primary the preferences of everything
// colocated with it (recursively, scaled by score/INFINITY) are added, so
// chains move together. Group members are colocated with the member
// before them, which is how a group stays on one node and moves as a
// whole when one member is banned.
//
// # Tie-break
//
// Among nodes with equal score the resource goes to the node with the
// fewest resources already placed in this run, then the node it runs on
// now, then the node whose name sorts first — except that when the best
// score is positive and the node it runs on now has that score, it stays
// there even if it holds more resources (Pacemaker's assign_best_node):
// balancing alone never moves a running resource with stickiness.
//
// # Clones
//
// Anonymous clones only. A clone of a primitive P (or group G) has
// clone-max instances (default: the number of configured nodes) named
// "P:0", "P:1", ... (members of a cloned group "M:0", ...), at most one
// per node: clone-node-max above 1 is ignored with a warning, as
// Pacemaker does for anonymous clones (scenario clone-node-max). Clones
// have resource-stickiness 1 unless it is set (on the clone or in
// rsc_defaults), as in Pacemaker (scenario clone-sticky-by-default).
// Active copies found in the status are bound to instances in order
// (online nodes first, then configured node order), so instance numbers
// are stable while copies keep running. Healthy running instances stay
// where they are while their node holds no more than its share
// (clone-max / available nodes): when an instance would rather go
// elsewhere, that node is reserved for a later instance and keeping it is
// tried again, as long as instances are left (Pacemaker 2.1.7's
// assign_instance_early, scenario clone-keeps-running-instances). The
// others are placed like primitives, spreading across nodes through the
// tie-break. Constraints name the clone (or its child, meaning the clone).
//
// # Actions
//
// Each primitive gets a stop on every node it is active on and a start
// on the node chosen for it. Orderings carry Pacemaker's rules: a
// required stop requires the start after it (restart); a start that
// cannot run stops the resource instead; a group member (or the "then" of
// a Mandatory order) restarts when the member before it (the "first")
// restarts and cannot start when it cannot; stopping a "first" stops its
// symmetrical "then". Without quorum, no-quorum-policy=stop blocks every
// start (so everything stops), freeze blocks starting what is not
// running, ignore blocks nothing. Blocked actions are reported with
// Blocked set and a reason; placement then stays where the resource is.
//
// # Differences from Pacemaker
//
//   - Only the CIB subset of crm/cib is read: no promotable clones,
//     bundles, remote nodes, utilization, tickets, resource sets, node
//     health, date rules, migrate_to/from live migration, or
//     multiple-active policies other than stop_start.
//   - join="" on an expected-up member is treated as pending, not as an
//     unknown state that gets the node fenced (pacer's controller writes
//     node states itself and may not have set join yet).
//   - A stop on an unclean node that cannot be fenced is never attempted,
//     even if the node is still in the membership.
//   - Mandatory colocations are applied before optional ones and clone
//     instances are kept with reservations, as in Pacemaker 2.1.6 and
//     2.1.7; Pacemaker 2.1.5 (Debian 12) differs there (see
//     docs/reference/simulate.md, which lists every difference found by
//     test/pcmkcompat against crm_simulate).
//   - Order kind Serialize is treated as Optional; promote/demote in
//     orders count as start/stop.
//   - With no-quorum-policy=freeze a stopped resource is not assigned at
//     all, so it does not count towards the tie-break of later resources.
//   - Orphans (resources active but no longer configured) appear in
//     placement and actions under their status id.
package scheduler
