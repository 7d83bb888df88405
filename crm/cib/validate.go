package cib

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration. Where names the
// element ("resource vip"), Field the attribute, and Message says what is
// wrong and how to fix it.
type Problem struct {
	Where   string `json:"where"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Field != "" {
		return p.Where + ": " + p.Field + ": " + p.Message
	}
	return p.Where + ": " + p.Message
}

// ValidationError carries every problem found, so a caller can show them
// all at once.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}

// Err returns nil when there are no problems, else a *ValidationError.
func Err(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

// Validate checks the configuration and returns every problem found, in a
// stable order. The status section is not user input and is not checked.
func (c *Configuration) Validate() []Problem {
	v := &validator{cfg: c, ids: map[string]string{}}
	v.properties()
	v.defaults()
	v.nodes()
	v.resources()
	v.constraints()
	v.fencing()
	v.alerts()
	return v.problems
}

type validator struct {
	cfg      *Configuration
	ids      map[string]string // id -> where it was first used
	problems []Problem
}

func (v *validator) add(where, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Where: where, Field: field, Message: fmt.Sprintf(format, args...)})
}

// id checks syntax and uniqueness. Pacemaker ids are XML IDs and share one
// namespace across the configuration.
func (v *validator) id(where, id string) {
	if id == "" {
		v.add(where, "id", "missing id: give it a name made of letters, digits, '.', '-' or '_'")
		return
	}
	if msg := checkID(id); msg != "" {
		v.add(where, "id", "%s", msg)
		return
	}
	if first, dup := v.ids[id]; dup {
		v.add(where, "id", "id %q is already used by %s: choose another id", id, first)
		return
	}
	v.ids[id] = where
}

func checkID(id string) string {
	for i, r := range id {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if i > 0 {
			ok = ok || r == '.' || r == '-' || (r >= '0' && r <= '9')
		}
		if !ok {
			if i == 0 {
				return fmt.Sprintf("id %q must start with a letter or '_'", id)
			}
			return fmt.Sprintf("id %q has %q: use only letters, digits, '.', '-' and '_'", id, r)
		}
	}
	return ""
}

// CheckID reports whether id is a valid Pacemaker id ("" if so).
func CheckID(id string) string { return checkID(id) }

func (v *validator) properties() {
	for _, name := range sortedKeys(v.cfg.Properties) {
		opt, ok := Properties[name]
		if !ok {
			v.add("property "+name, "", "unknown cluster property; see 'pcsctl property describe' for the list")
			continue
		}
		if err := opt.Check(v.cfg.Properties[name]); err != nil {
			v.add("property "+name, "", "%v", err)
		}
	}
}

func (v *validator) defaults() {
	v.meta("rsc_defaults", v.cfg.RscDefaults)
	for _, name := range sortedKeys(v.cfg.OpDefaults) {
		val := v.cfg.OpDefaults[name]
		switch name {
		case "timeout", "interval":
			if _, err := ParseDuration(val); err != nil {
				v.add("op_defaults", name, "%v", err)
			}
		case "on-fail":
			if !contains(OpOnFail, val) {
				v.add("op_defaults", name, "%q is not allowed: use one of %s", val, strings.Join(OpOnFail, ", "))
			}
		default:
			v.add("op_defaults", name, "unknown operation default: use timeout, interval or on-fail")
		}
	}
}

func (v *validator) meta(where string, meta map[string]string) {
	for _, name := range sortedKeys(meta) {
		opt, ok := MetaAttributes[name]
		if !ok {
			v.add(where, "meta "+name, "unknown meta attribute; use one of %s", strings.Join(OptionNames(MetaAttributes), ", "))
			continue
		}
		if err := opt.Check(meta[name]); err != nil {
			v.add(where, "meta "+name, "%v", err)
		}
	}
}

// nodes checks node entries. Node ids are Pacemaker's numeric corosync
// ids ("1"), not XML ids, so they live in their own namespace.
func (v *validator) nodes() {
	names := map[string]bool{}
	ids := map[string]bool{}
	for _, n := range v.cfg.Nodes {
		where := "node " + n.Name
		if n.Name == "" {
			v.add("node "+n.ID, "name", "missing node name")
		} else if names[n.Name] {
			v.add(where, "name", "node %q is listed twice: remove one", n.Name)
		}
		names[n.Name] = true
		switch {
		case n.ID == "":
			v.add(where, "id", "missing node id")
		case ids[n.ID]:
			v.add(where, "id", "node id %q is used twice: give each node its own id", n.ID)
		}
		ids[n.ID] = true
		for _, a := range []string{"standby", "maintenance"} {
			if val, ok := n.Attributes[a]; ok {
				if _, okb := parseBool(val); !okb {
					v.add(where, a, "%q is not a boolean: use on or off", val)
				}
			}
		}
	}
}

func (v *validator) resources() {
	for _, r := range v.cfg.Resources {
		set := 0
		for _, b := range []bool{r.Primitive != nil, r.Group != nil, r.Clone != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			v.add("resource "+r.ID(), "", "a resource entry must hold exactly one primitive, group or clone")
			continue
		}
		switch {
		case r.Primitive != nil:
			v.primitive(r.Primitive)
		case r.Group != nil:
			v.group(r.Group)
		case r.Clone != nil:
			v.clone(r.Clone)
		}
	}
}

func (v *validator) primitive(p *Primitive) {
	where := "resource " + p.ID
	v.id(where, p.ID)
	switch {
	case !Classes[p.Class]:
		v.add(where, "class", "unknown class %q: use one of %s", p.Class, classList())
	case p.Class == "ocf" && p.Provider == "":
		v.add(where, "provider", "ocf agents need a provider: use e.g. ocf:heartbeat:%s", p.Type)
	case p.Class != "ocf" && p.Provider != "":
		v.add(where, "provider", "only ocf agents have a provider: use %s:%s", p.Class, p.Type)
	}
	if p.Type == "" {
		v.add(where, "type", "missing agent type: e.g. IPaddr2 in ocf:heartbeat:IPaddr2")
	}
	v.meta(where, p.Meta)
	seen := map[string]bool{}
	for _, op := range p.Ops {
		key := op.Name + "/" + op.Interval
		field := "op " + op.Name
		if op.Name == "" {
			v.add(where, "op", "operation without a name: use e.g. op monitor interval=10s")
			continue
		}
		if op.ID != "" {
			v.id(where+" "+field, op.ID)
		}
		if seen[key] {
			v.add(where, field, "two %s operations with interval %q: give each a different interval", op.Name, op.Interval)
		}
		seen[key] = true
		if op.Interval != "" {
			if _, err := ParseDuration(op.Interval); err != nil {
				v.add(where, field+" interval", "%v", err)
			}
		}
		if op.Timeout != "" {
			if _, err := ParseDuration(op.Timeout); err != nil {
				v.add(where, field+" timeout", "%v", err)
			}
		}
		if op.OnFail != "" && !contains(OpOnFail, op.OnFail) {
			v.add(where, field+" on-fail", "%q is not allowed: use one of %s", op.OnFail, strings.Join(OpOnFail, ", "))
		}
	}
}

func (v *validator) group(g *Group) {
	where := "group " + g.ID
	v.id(where, g.ID)
	v.meta(where, g.Meta)
	if len(g.Members) == 0 {
		v.add(where, "members", "a group needs at least one member: add one or delete the group")
	}
	for _, m := range g.Members {
		if m == nil {
			v.add(where, "members", "empty member entry")
			continue
		}
		v.primitive(m)
	}
}

func (v *validator) clone(c *Clone) {
	where := "clone " + c.ID
	v.id(where, c.ID)
	v.meta(where, c.Meta)
	if IsTrue(c.Meta["globally-unique"]) {
		v.add(where, "meta globally-unique", "only anonymous clones are supported: set globally-unique=false")
	}
	switch {
	case (c.Primitive == nil) == (c.Group == nil):
		v.add(where, "", "a clone must hold exactly one primitive or group")
	case c.Primitive != nil:
		v.primitive(c.Primitive)
	default:
		v.group(c.Group)
	}
}

func (v *validator) constraints() {
	rsc := v.cfg.ResourceIDs()
	needRsc := func(where, field, id string) {
		if id == "" {
			v.add(where, field, "missing resource: name the resource this constraint is about")
		} else if !rsc[id] {
			v.add(where, field, "resource %q does not exist: create it first or fix the name", id)
		}
	}
	score := func(where, s string, required bool) {
		if s == "" && !required {
			return
		}
		if _, err := ParseScore(s); err != nil {
			v.add(where, "score", "%v", err)
		}
	}
	cs := v.cfg.Constraints
	for _, l := range cs.Locations {
		where := "location " + l.ID
		v.id(where, l.ID)
		needRsc(where, "rsc", l.Resource)
		switch {
		case l.Node != "" && len(l.Rules) > 0:
			v.add(where, "", "give either a node and score or rules, not both")
		case l.Node == "" && len(l.Rules) == 0:
			v.add(where, "node", "missing node: give a node and score, or a rule")
		case l.Node != "":
			score(where, l.Score, true)
		}
		for _, r := range l.Rules {
			v.rule(where, r)
		}
	}
	for _, c := range cs.Colocations {
		where := "colocation " + c.ID
		v.id(where, c.ID)
		needRsc(where, "rsc", c.Resource)
		needRsc(where, "with-rsc", c.WithResource)
		if c.Resource != "" && c.Resource == c.WithResource {
			v.add(where, "with-rsc", "a resource cannot be colocated with itself")
		}
		score(where, c.Score, true)
	}
	for _, o := range cs.Orders {
		where := "order " + o.ID
		v.id(where, o.ID)
		needRsc(where, "first", o.First)
		needRsc(where, "then", o.Then)
		if o.First != "" && o.First == o.Then {
			v.add(where, "then", "a resource cannot be ordered after itself")
		}
		for _, fa := range [][2]string{{"first-action", o.FirstAction}, {"then-action", o.ThenAction}} {
			if a := fa[1]; a != "" && !contains([]string{"start", "stop", "promote", "demote"}, a) {
				v.add(where, fa[0], "%q is not an action: use start, stop, promote or demote", a)
			}
		}
		if o.Kind != "" && !contains([]string{"Mandatory", "Optional", "Serialize"}, o.Kind) {
			v.add(where, "kind", "%q is not an order kind: use Mandatory, Optional or Serialize", o.Kind)
		}
	}
}

var ruleOps = []string{"eq", "ne", "lt", "gt", "lte", "gte", "defined", "not_defined"}

func (v *validator) rule(where string, r Rule) {
	v.id(where+" rule", r.ID)
	if r.Score != "" {
		if _, err := ParseScore(r.Score); err != nil {
			v.add(where+" rule "+r.ID, "score", "%v", err)
		}
	}
	if r.BooleanOp != "" && r.BooleanOp != "and" && r.BooleanOp != "or" {
		v.add(where+" rule "+r.ID, "boolean-op", "%q: use and or or", r.BooleanOp)
	}
	if len(r.Expressions) == 0 {
		v.add(where+" rule "+r.ID, "", "a rule needs at least one expression, e.g. '#uname eq node1'")
	}
	for _, e := range r.Expressions {
		ew := where + " rule " + r.ID
		if e.ID != "" {
			v.id(ew+" expression", e.ID)
		}
		if e.Attribute == "" {
			v.add(ew, "attribute", "missing attribute: name a node attribute or #uname")
		}
		if !contains(ruleOps, e.Operation) {
			v.add(ew, "operation", "%q is not an operation: use one of %s", e.Operation, strings.Join(ruleOps, ", "))
		} else if e.Operation != "defined" && e.Operation != "not_defined" && e.Value == "" {
			v.add(ew, "value", "operation %s needs a value", e.Operation)
		}
		if e.Type != "" && !contains([]string{"string", "integer", "number", "version"}, e.Type) {
			v.add(ew, "type", "%q: use string, integer, number or version", e.Type)
		}
	}
}

func (v *validator) fencing() {
	devices := map[string]bool{}
	for _, p := range v.cfg.Primitives() {
		if p.Class == "stonith" {
			devices[p.ID] = true
		}
	}
	seen := map[string]bool{}
	for _, l := range v.cfg.FencingLevels {
		where := "fencing-level " + l.ID
		v.id(where, l.ID)
		if l.Target == "" {
			v.add(where, "target", "missing target node")
		}
		if l.Index < 1 || l.Index > 9 {
			v.add(where, "index", "level %d is out of range: use 1 to 9", l.Index)
		}
		key := fmt.Sprintf("%s/%d", l.Target, l.Index)
		if seen[key] {
			v.add(where, "index", "node %s already has a level %d: use another index", l.Target, l.Index)
		}
		seen[key] = true
		if len(l.Devices) == 0 {
			v.add(where, "devices", "a level needs at least one stonith device")
		}
		for _, d := range l.Devices {
			if !devices[d] {
				v.add(where, "devices", "%q is not a stonith device: a fencing level lists resources of class stonith", d)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
