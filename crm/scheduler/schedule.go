package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"pacer/crm/cib"
)

// Schedule computes the next transition for a cluster. It is a pure
// function of its input: no I/O, no clock, no goroutines, no globals, and
// the same input always gives the same output, so a transition can be
// recomputed anywhere (DC, pcsctl simulate, tests) and compared.
//
// The phases run in Pacemaker's order (pcmk__schedule_actions), one file
// each; every phase reads what the earlier ones left in the scheduler and
// adds its own part.
func Schedule(in Input) (*Transition, error) {
	if in.CIB == nil {
		return nil, ErrNoCIB
	}
	s := &scheduler{in: in, cfg: &in.CIB.Config}
	s.unpackOptions()                       // schedule.go: cluster properties
	if err := s.unpackNodes(); err != nil { // nodes.go: node states
		return nil, err
	}
	s.tables.width = len(s.nodes)
	if err := s.unpackResources(); err != nil { // resources.go: resource tree
		return nil, err
	}
	s.unpackStatus()        // status.go: where resources run, failures, fencing needs
	s.unpackConstraints()   // location.go, colocation.go, order.go
	s.applyNodeCriteria()   // scores.go: defaults, locations, stickiness, fail counts
	s.internalConstraints() // groups.go, clones.go: implicit colocations
	s.assignResources()     // assign.go: choose a node for everything
	s.scheduleFencing()     // fencing.go: which unclean nodes are fenced
	s.createActions()       // actions.go: stop/start per primitive
	s.applyOrderings()      // order.go + flags.go: required/runnable fixpoint
	s.summarize()           // actions.go: placement and action list
	s.buildGraph()          // graph.go: ordering edges and steps
	s.explain()             // explain.go: score table and reasons
	return s.tr, nil
}

// scheduler holds one run's working state. It is created per call and
// never shared, which is what keeps Schedule safe for concurrent use.
type scheduler struct {
	in  Input
	cfg *cib.Configuration
	opt options

	nodes      []*node // configured order
	nodeByName map[string]*node

	tops    []*resource          // top-level resources, assignment order
	prims   []*resource          // every primitive, document order
	byID    map[string]*resource // primitives, groups, clones, instances
	aliases map[string]*resource // ids constraints may use for a clone's child
	orphans []*resource

	locs       []location
	colocs     []*colocation
	orders     []*ordering
	bans       []ban                 // score contributions found in status
	failCounts []map[string]failInfo // per node: fail counts by resource
	opsBuf     []*cib.OpRecord       // evalHistory's scratch list

	haveFencing bool // a stonith-class primitive is configured
	haveManaged bool

	actions []*action
	fences  []*action
	work    []*action // flags.go worklist

	tr       *Transition
	warnings []string

	// arena.go: storage for the objects above
	rscSlab slab[resource]
	actSlab slab[action]
	relSlab slab[rel]
	tables  tables
}

// options are the cluster properties the scheduler honours.
type options struct {
	stonith          bool
	symmetric        bool
	noQuorumPolicy   string // stop, freeze, ignore, suicide
	maintenance      bool
	stopAll          bool
	startFailIsFatal bool
}

func (s *scheduler) unpackOptions() {
	p := s.cfg.Property
	s.opt = options{
		stonith:          cib.IsTrue(p("stonith-enabled")),
		symmetric:        cib.IsTrue(p("symmetric-cluster")),
		noQuorumPolicy:   p("no-quorum-policy"),
		maintenance:      cib.IsTrue(p("maintenance-mode")),
		stopAll:          cib.IsTrue(p("stop-all-resources")),
		startFailIsFatal: cib.IsTrue(p("start-failure-is-fatal")),
	}
	switch s.opt.noQuorumPolicy {
	case "stop", "freeze", "ignore", "suicide":
	default:
		s.warnf("no-quorum-policy %q is not known; using stop", s.opt.noQuorumPolicy)
		s.opt.noQuorumPolicy = "stop"
	}
	s.tr = &Transition{
		CIBVersion: s.in.CIB.Version,
		Placement:  map[string]string{},
		Fencing:    []string{},
		Actions:    []Action{},
		Steps:      []Step{},
		Graph:      []GraphAction{},
		Reasons:    map[string][]Reason{},
	}
}

func (s *scheduler) warnf(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

// node is a configured cluster node with the state derived in nodes.go.
type node struct {
	idx   int
	name  string
	id    string
	attrs map[string]string // permanent + transient attributes, #uname, #id

	online      bool
	unclean     bool
	standby     bool
	maintenance bool
	pending     bool
	shutdown    bool
	expectedUp  bool
	seen        bool
	fence       bool // fenced in this transition
	reason      string

	count int // primitives assigned here in this run (tie-break)
}

// available reports whether new resources may be placed on the node
// (pcmk__node_available without the score check).
func (n *node) available() bool {
	return n != nil && n.online && !n.unclean && !n.standby && !n.maintenance &&
		!n.pending && !n.shutdown
}

// nodeNames returns the names of ns in the given order.
func nodeNames(ns []*node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.name
	}
	return out
}

// sortedKeys returns a map's keys in sorted order, for deterministic
// iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseIntMeta reads an integer meta attribute ("INFINITY" allowed).
func parseIntMeta(v string, def int64) (int64, bool) {
	if strings.TrimSpace(v) == "" {
		return def, true
	}
	sc, err := cib.ParseScore(v)
	if err != nil {
		return def, false
	}
	return int64(sc), true
}
