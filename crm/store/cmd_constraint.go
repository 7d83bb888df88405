package store

import (
	"fmt"
	"strings"

	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &AddConstraint{} })
	register(func() Command { return &RemoveConstraint{} })
	register(func() Command { return &ReplaceConfig{} })
}

// AddConstraint adds exactly one location, colocation or order. An empty
// id is filled in the way pcs names constraints
// (location-vip-node1-INFINITY, colocation-a-b-INFINITY, order-a-b-mandatory).
type AddConstraint struct {
	Location   *cib.Location   `json:"location,omitempty"`
	Colocation *cib.Colocation `json:"colocation,omitempty"`
	Order      *cib.Order      `json:"order,omitempty"`
}

func (*AddConstraint) Kind() string     { return "constraint.add" }
func (*AddConstraint) Section() Section { return SectionConfig }
func (c *AddConstraint) Apply(x *cib.CIB) error {
	cs := &x.Config.Constraints
	n := 0
	for _, set := range []bool{c.Location != nil, c.Colocation != nil, c.Order != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errorf(ErrInvalid, "give exactly one of location, colocation, order")
	}
	switch {
	case c.Location != nil:
		l := *c.Location
		for _, o := range cs.Locations {
			if l.Node != "" && o.Resource == l.Resource && o.Node == l.Node && o.Score == l.Score && len(o.Rules) == 0 {
				return errorf(ErrExists, "duplicate constraint %s; remove it first or use another score", o.ID)
			}
		}
		if l.ID == "" {
			l.ID = freeID(x, "location-"+l.Resource+"-"+l.Node+"-"+l.Score)
		}
		cs.Locations = append(cs.Locations, l)
	case c.Colocation != nil:
		col := *c.Colocation
		for _, o := range cs.Colocations {
			if o.Resource == col.Resource && o.WithResource == col.WithResource {
				return errorf(ErrExists, "duplicate constraint %s (%s with %s); remove it first", o.ID, o.Resource, o.WithResource)
			}
		}
		if col.ID == "" {
			col.ID = freeID(x, "colocation-"+col.Resource+"-"+col.WithResource+"-"+col.Score)
		}
		cs.Colocations = append(cs.Colocations, col)
	default:
		o := *c.Order
		for _, e := range cs.Orders {
			if e.First == o.First && e.Then == o.Then {
				return errorf(ErrExists, "duplicate constraint %s (%s then %s); remove it first", e.ID, e.First, e.Then)
			}
		}
		if o.ID == "" {
			kind := o.Kind
			if kind == "" {
				kind = "Mandatory"
			}
			o.ID = freeID(x, "order-"+o.First+"-"+o.Then+"-"+strings.ToLower(kind))
		}
		cs.Orders = append(cs.Orders, o)
	}
	return nil
}

// freeID makes base a valid id and appends -1, -2, ... until it is unused.
func freeID(x *cib.CIB, base string) string {
	base = strings.NewReplacer("+", "", "#", "", ":", "-", " ", "-").Replace(base)
	used := usedIDs(x)
	if !used[base] {
		return base
	}
	for i := 1; ; i++ {
		id := fmt.Sprintf("%s-%d", base, i)
		if !used[id] {
			return id
		}
	}
}

func usedIDs(x *cib.CIB) map[string]bool {
	used := x.Config.ResourceIDs()
	for _, id := range x.Config.Constraints.ConstraintIDs() {
		used[id] = true
	}
	for _, l := range x.Config.FencingLevels {
		used[l.ID] = true
	}
	for _, a := range x.Config.Alerts {
		used[a.ID] = true
		for _, r := range a.Recipients {
			used[r.ID] = true
		}
	}
	return used
}

// RemoveConstraint deletes constraints by id.
type RemoveConstraint struct {
	IDs []string `json:"ids"`
}

func (*RemoveConstraint) Kind() string     { return "constraint.remove" }
func (*RemoveConstraint) Section() Section { return SectionConfig }
func (c *RemoveConstraint) Apply(x *cib.CIB) error {
	if len(c.IDs) == 0 {
		return errorf(ErrInvalid, "name the constraint ids to remove ('pcsctl constraint show --full' lists them)")
	}
	want := map[string]bool{}
	for _, id := range c.IDs {
		want[id] = true
	}
	have := map[string]bool{}
	for _, id := range x.Config.Constraints.ConstraintIDs() {
		have[id] = true
	}
	for _, id := range c.IDs {
		if !have[id] {
			return errorf(ErrNotFound, "constraint %q does not exist; 'pcsctl constraint show --full' lists the ids", id)
		}
	}
	cs := &x.Config.Constraints
	cs.Locations = filter(cs.Locations, func(l cib.Location) bool { return !want[l.ID] })
	cs.Colocations = filter(cs.Colocations, func(l cib.Colocation) bool { return !want[l.ID] })
	cs.Orders = filter(cs.Orders, func(l cib.Order) bool { return !want[l.ID] })
	return nil
}

func init() { register(func() Command { return &RemoveConstraintsMatching{} }) }

// RemoveConstraintsMatching removes every location constraint whose id
// starts with Prefix: 'resource clear' removes the cli-prefer-/cli-ban-
// constraints of 'resource move' and 'ban'. Removing none is no error.
type RemoveConstraintsMatching struct {
	Prefix string `json:"prefix"`
	// Exact matches the id itself instead of a prefix.
	Exact bool `json:"exact,omitempty"`
}

func (*RemoveConstraintsMatching) Kind() string     { return "constraint.remove-prefix" }
func (*RemoveConstraintsMatching) Section() Section { return SectionConfig }
func (c *RemoveConstraintsMatching) Apply(x *cib.CIB) error {
	if c.Prefix == "" {
		return errorf(ErrInvalid, "an empty prefix would remove every location constraint")
	}
	cs := &x.Config.Constraints
	cs.Locations = filter(cs.Locations, func(l cib.Location) bool {
		if c.Exact {
			return l.ID != c.Prefix
		}
		return !strings.HasPrefix(l.ID, c.Prefix)
	})
	return nil
}

// ReplaceConfig swaps the whole configuration section (cib import). The
// status section is kept.
type ReplaceConfig struct {
	Config cib.Configuration `json:"configuration"`
}

func (*ReplaceConfig) Kind() string     { return "config.replace" }
func (*ReplaceConfig) Section() Section { return SectionConfig }
func (c *ReplaceConfig) Apply(x *cib.CIB) error {
	x.Config = c.Config.Clone()
	return nil
}

func init() {
	register(func() Command { return &AddFencingLevel{} })
	register(func() Command { return &RemoveFencingLevel{} })
}

// AddFencingLevel adds one fencing topology level ('pcs stonith level add').
type AddFencingLevel struct {
	Level cib.FencingLevel `json:"level"`
}

func (*AddFencingLevel) Kind() string     { return "fencing-level.add" }
func (*AddFencingLevel) Section() Section { return SectionConfig }
func (c *AddFencingLevel) Apply(x *cib.CIB) error {
	l := c.Level
	if l.ID == "" {
		l.ID = freeID(x, fmt.Sprintf("fl-%s-%d", l.Target, l.Index))
	}
	x.Config.FencingLevels = append(x.Config.FencingLevels, l)
	return nil
}

// RemoveFencingLevel removes a level index of one target (or of all).
type RemoveFencingLevel struct {
	Index  int    `json:"index"`
	Target string `json:"target,omitempty"`
}

func (*RemoveFencingLevel) Kind() string     { return "fencing-level.remove" }
func (*RemoveFencingLevel) Section() Section { return SectionConfig }
func (c *RemoveFencingLevel) Apply(x *cib.CIB) error {
	before := len(x.Config.FencingLevels)
	x.Config.FencingLevels = filter(x.Config.FencingLevels, func(l cib.FencingLevel) bool {
		return !(l.Index == c.Index && (c.Target == "" || l.Target == c.Target))
	})
	if len(x.Config.FencingLevels) == before {
		return errorf(ErrNotFound, "no fencing level %d%s; 'pcsctl stonith level config' lists them", c.Index, map[bool]string{true: "", false: " for " + c.Target}[c.Target == ""])
	}
	return nil
}
