package pcmkcompat

// Allowed lists the scenarios where pacer's placement or fencing differs
// from Debian 12's Pacemaker 2.1.5 on purpose, with the reason. The same
// table is in docs/reference/simulate.md. A listed scenario that agrees
// again fails the test, so the list stays true. The random-N entries
// depend on the generator in gen.go: changing Random reshuffles them.
var Allowed = map[string]string{
	"random-11": "two colocations of g1 with g0 (-50 and INFINITY): pacer applies mandatory colocations before " +
		"optional ones, as Pacemaker does since 2.1.6 (commit 0eae7d53b4), so the -50 is rolled back and g1 runs; " +
		"2.1.5 applies them in list order, the -50 first, and g1 cannot run",
	"random-137": "no quorum with no-quorum-policy=freeze: pacer does not assign stopped resources at all, " +
		"2.1.5 assigns them (their starts are then blocked) and counts them in the tie-break, so the healthy " +
		"fence device moves to a less loaded node (crm/scheduler doc.go, deliberate differences)",
	"random-272": "a running clone instance stays on its node while another node is preferred: pacer reserves " +
		"the preferred node for the next instance and keeps the running one (assign_instance_early, Pacemaker " +
		"2.1.7, commit 512556ebd8, \"Don't shuffle clone instances unnecessarily\"); 2.1.5 moves it",
}

// ConfigInvalidInPacemaker lists scenarios whose configuration
// crm_verify refuses on purpose: they pin how pacer treats a setting
// Pacemaker calls an error.
var ConfigInvalidInPacemaker = map[string]string{
	"clone-node-max":    "clone-node-max=2 on an anonymous clone: Pacemaker reports it and uses 1, as pacer does",
	"stonith-no-device": "stonith-enabled=true without a stonith device: Pacemaker refuses to start resources, as pacer does",
}
