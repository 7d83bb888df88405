package scheduler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"pacer/crm/cib"
)

type kind uint8

const (
	kPrimitive kind = iota
	kGroup
	kClone
)

type role uint8

const (
	roleUnknown role = iota
	roleStopped
	roleStarted
)

type assignState uint8

const (
	unassigned assignState = iota
	assigning
	assigned
)

// resource is one node of the resource tree: a primitive, a group, a
// clone, or a clone instance (a primitive or group named "id:N"). The
// fields below the first block are filled by later phases.
type resource struct {
	id       string
	kind     kind
	parent   *resource
	children []*resource
	prim     *cib.Primitive    // primitives only; shared by clone instances
	ownMeta  map[string]string // this element's meta attributes
	base     string            // id in status and fail counts (no ":N")
	instance int               // clone instance number, -1 otherwise
	pos      int               // document position among primitives

	priority       int64
	stickiness     cib.Score
	threshold      int64 // migration-threshold; 0 = never ban
	failureTimeout time.Duration
	managed        bool
	targetStopped  bool
	stonith        bool
	orphan         bool
	cloneMax       int
	cloneNodeMax   int

	// status.go
	active        []*node // nodes the resource is known to be active on
	failed        bool    // failed and must be stopped to recover
	ignoreFailure bool    // on-fail=ignore: failures do not count
	statusStopped bool    // a failure asked for it to stay stopped (on-fail=stop)

	// scores.go, colocation.go, assign.go
	allowed  scoreTable
	state    assignState
	assigned *node
	updating bool // recursion guard of colocated score merging
	ownThis  []*colocation
	ownWith  []*colocation
	thisWith []*colocation // effective "this with" list (colocation.go)
	withThis []*colocation // effective "with this" list
	listed   bool          // thisWith/withThis computed
	counts   []int         // clones: instances assigned per node
	reasons  []Reason

	// actions.go
	start *action
	stops []*action
	group *groupActions // groups and clones: pseudo actions
}

func (r *resource) isPrimitive() bool { return r.kind == kPrimitive }

// cloneOf returns the enclosing clone, or nil.
func (r *resource) cloneOf() *resource {
	for p := r.parent; p != nil; p = p.parent {
		if p.kind == kClone {
			return p
		}
	}
	return nil
}

// groupOf returns the enclosing group, or nil.
func (r *resource) groupOf() *resource {
	if r.parent != nil && r.parent.kind == kGroup {
		return r.parent
	}
	return nil
}

// banTarget is the resource a failure of r bans: anonymous clone
// instances ban the whole clone, as pcmk__threshold_reached does.
func (r *resource) banTarget() *resource {
	if c := r.cloneOf(); c != nil {
		return c
	}
	return r
}

// primitives returns r's primitive descendants in order (r itself if
// primitive).
func (r *resource) primitives() []*resource {
	if r.isPrimitive() {
		return []*resource{r}
	}
	var out []*resource
	for _, c := range r.children {
		out = append(out, c.primitives()...)
	}
	return out
}

// currentNode is pcmk__current_node: the first node it is active on.
func (r *resource) currentNode() *node {
	if len(r.active) == 0 {
		return nil
	}
	return r.active[0]
}

// unpackResources builds the resource tree from the configuration and
// resolves every meta attribute once, so later phases read plain fields.
func (s *scheduler) unpackResources() error {
	s.byID = map[string]*resource{}
	s.aliases = map[string]*resource{}
	for _, cr := range s.cfg.Resources {
		var r *resource
		var err error
		switch {
		case cr.Primitive != nil && cr.Group == nil && cr.Clone == nil:
			r, err = s.newPrimitive(cr.Primitive, nil, "", -1)
		case cr.Group != nil && cr.Primitive == nil && cr.Clone == nil:
			r, err = s.newGroup(cr.Group, nil, "", -1)
		case cr.Clone != nil && cr.Primitive == nil && cr.Group == nil:
			r, err = s.newClone(cr.Clone)
		default:
			err = fmt.Errorf("%w: resource entry %q must hold exactly one primitive, group or clone", ErrInvalidCIB, cr.ID())
		}
		if err != nil {
			return err
		}
		s.tops = append(s.tops, r)
	}
	// Assignment order: priority first, then document order.
	sort.SliceStable(s.tops, func(i, j int) bool { return s.tops[i].priority > s.tops[j].priority })
	return nil
}

func (s *scheduler) register(r *resource) error {
	if r.id == "" {
		return fmt.Errorf("%w: a resource has no id", ErrInvalidCIB)
	}
	if s.byID[r.id] != nil {
		return fmt.Errorf("%w: resource id %q is used twice", ErrInvalidCIB, r.id)
	}
	s.byID[r.id] = r
	return nil
}

// newPrimitive adds a primitive; suffix and inst are set for clone
// instances ("p:0").
func (s *scheduler) newPrimitive(p *cib.Primitive, parent *resource, suffix string, inst int) (*resource, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: empty primitive in %s", ErrInvalidCIB, parent.id)
	}
	r := s.rscSlab.new()
	*r = resource{id: p.ID + suffix, kind: kPrimitive, parent: parent, prim: p,
		ownMeta: p.Meta, base: p.ID, instance: inst, pos: len(s.prims)}
	if err := s.register(r); err != nil {
		return nil, err
	}
	s.prims = append(s.prims, r)
	s.resolveMeta(r)
	r.stonith = strings.EqualFold(p.Class, "stonith")
	if r.stonith {
		s.haveFencing = true
	}
	return r, nil
}

func (s *scheduler) newGroup(g *cib.Group, parent *resource, suffix string, inst int) (*resource, error) {
	r := s.rscSlab.new()
	*r = resource{id: g.ID + suffix, kind: kGroup, parent: parent, ownMeta: g.Meta,
		base: g.ID, instance: inst}
	if err := s.register(r); err != nil {
		return nil, err
	}
	s.resolveMeta(r)
	if len(g.Members) == 0 {
		s.warnf("group %s has no members", g.ID)
	}
	for _, m := range g.Members {
		c, err := s.newPrimitive(m, r, suffix, inst)
		if err != nil {
			return nil, err
		}
		r.children = append(r.children, c)
	}
	return r, nil
}

// newClone adds an anonymous clone and its instances. clone-max defaults
// to the number of configured nodes, clone-node-max to 1.
func (s *scheduler) newClone(c *cib.Clone) (*resource, error) {
	r := &resource{id: c.ID, kind: kClone, ownMeta: c.Meta, base: c.ID, instance: -1}
	if err := s.register(r); err != nil {
		return nil, err
	}
	s.resolveMeta(r)
	if cib.IsTrue(c.Meta["globally-unique"]) {
		s.warnf("clone %s: globally-unique clones are not supported; treating it as anonymous", c.ID)
	}
	max, ok := parseIntMeta(s.meta(r, "clone-max"), int64(len(s.nodes)))
	if !ok || max < 0 {
		s.warnf("clone %s: clone-max %q is not a number; using %d", c.ID, s.meta(r, "clone-max"), len(s.nodes))
		max = int64(len(s.nodes))
	}
	perNode, ok := parseIntMeta(s.meta(r, "clone-node-max"), 1)
	if !ok || perNode < 1 {
		perNode = 1
	}
	if perNode > 1 {
		// Copies of an anonymous clone on one node would share one
		// resource id on that node's executor; Pacemaker ignores the
		// option for them too (clone.c, clone_unpack).
		s.warnf("clone %s: clone-node-max=%d ignored: an anonymous clone runs at most one copy per node", c.ID, perNode)
		perNode = 1
	}
	r.cloneMax, r.cloneNodeMax = int(max), int(perNode)
	child := c.Child()
	if child == "" || (c.Primitive != nil && c.Group != nil) {
		return nil, fmt.Errorf("%w: clone %s must hold exactly one primitive or group", ErrInvalidCIB, c.ID)
	}
	s.aliases[child] = r
	if c.Group != nil {
		for _, m := range c.Group.Members {
			if m != nil {
				s.aliases[m.ID] = nil // a member of a cloned group: not addressable
			}
		}
	}
	for i := 0; i < r.cloneMax; i++ {
		suffix := ":" + strconv.Itoa(i)
		var inst *resource
		var err error
		if c.Primitive != nil {
			inst, err = s.newPrimitive(c.Primitive, r, suffix, i)
		} else {
			inst, err = s.newGroup(c.Group, r, suffix, i)
		}
		if err != nil {
			return nil, err
		}
		r.children = append(r.children, inst)
	}
	return r, nil
}

// meta resolves a meta attribute: the element's own, then its ancestors',
// then rsc_defaults, as Pacemaker's meta inheritance does.
func (s *scheduler) meta(r *resource, name string) string {
	for p := r; p != nil; p = p.parent {
		if v, ok := p.ownMeta[name]; ok {
			return v
		}
		if p.kind == kClone && name == "resource-stickiness" {
			// Clones are "ever so slightly sticky by default" so that
			// instances are not shuffled for nothing (Pacemaker's
			// clone_unpack): 1 unless rsc_defaults says otherwise.
			if v, ok := s.cfg.RscDefaults[name]; ok {
				return v
			}
			return "1"
		}
	}
	return s.cfg.RscDefaults[name]
}

// resolveMeta turns the meta attributes the scheduler honours into fields.
func (s *scheduler) resolveMeta(r *resource) {
	if v, ok := parseIntMeta(s.meta(r, "priority"), 0); ok {
		r.priority = v
	}
	if v := s.meta(r, "resource-stickiness"); v != "" {
		if sc, err := cib.ParseScore(v); err == nil {
			r.stickiness = sc
		} else {
			s.warnf("resource %s: resource-stickiness %q is not a score; using 0", r.id, v)
		}
	}
	r.threshold = int64(cib.Infinity)
	if v := s.meta(r, "migration-threshold"); v != "" {
		if n, ok := parseIntMeta(v, int64(cib.Infinity)); ok && n >= 0 {
			r.threshold = n
		} else {
			s.warnf("resource %s: migration-threshold %q is not valid; using INFINITY", r.id, v)
		}
	}
	if v := s.meta(r, "failure-timeout"); v != "" {
		if d, err := cib.ParseDuration(v); err == nil {
			r.failureTimeout = d
		} else {
			s.warnf("resource %s: failure-timeout: %v", r.id, err)
		}
	}
	r.managed = true
	if v := s.meta(r, "is-managed"); v != "" && !cib.IsTrue(v) {
		r.managed = false
	}
	if cib.IsTrue(s.meta(r, "maintenance")) || s.opt.maintenance {
		r.managed = false
	}
	r.targetStopped = strings.EqualFold(s.meta(r, "target-role"), "Stopped")
}

// lookup finds the resource a constraint names: a primitive, group or
// clone id, or the id of a clone's child (meaning the clone).
func (s *scheduler) lookup(id string) (*resource, string) {
	if r, ok := s.aliases[id]; ok {
		if r == nil {
			return nil, fmt.Sprintf("%s is a member of a cloned group; constrain the clone instead", id)
		}
		return r, ""
	}
	r := s.byID[id]
	if r == nil || r.instance >= 0 {
		return nil, fmt.Sprintf("resource %s does not exist", id)
	}
	return r, ""
}
