package store

import (
	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &GroupAdd{} })
	register(func() Command { return &GroupRemove{} })
}

// GroupAdd moves existing primitives into a group (created when missing),
// in the given order, as 'pcs resource group add'.
type GroupAdd struct {
	Group   string   `json:"group"`
	Members []string `json:"members"`
	Before  string   `json:"before,omitempty"`
	After   string   `json:"after,omitempty"`
}

func (*GroupAdd) Kind() string     { return "group.add" }
func (*GroupAdd) Section() Section { return SectionConfig }
func (c *GroupAdd) Apply(x *cib.CIB) error {
	if len(c.Members) == 0 {
		return errorf(ErrInvalid, "name at least one resource to add to group %q", c.Group)
	}
	var moved []*cib.Primitive
	seen := map[string]bool{}
	for _, id := range c.Members {
		if seen[id] {
			return errorf(ErrInvalid, "%q is named twice", id)
		}
		seen[id] = true
		p, err := detachPrimitive(x, id, c.Group)
		if err != nil {
			return err
		}
		moved = append(moved, p)
	}
	g, err := ensureGroup(x, c.Group)
	if err != nil {
		return err
	}
	return insertMembers(g, moved, c.Before, c.After)
}

// detachPrimitive removes primitive id from wherever it sits (top level or
// another group; a member of target itself is taken out so it can be
// re-inserted at its new position) and returns it.
func detachPrimitive(x *cib.CIB, id, target string) (*cib.Primitive, error) {
	for i, r := range x.Config.Resources {
		switch {
		case r.Primitive != nil && r.Primitive.ID == id:
			x.Config.Resources = append(x.Config.Resources[:i:i], x.Config.Resources[i+1:]...)
			return r.Primitive, nil
		case r.Group != nil:
			for j, m := range r.Group.Members {
				if m.ID != id {
					continue
				}
				r.Group.Members = append(r.Group.Members[:j:j], r.Group.Members[j+1:]...)
				if len(r.Group.Members) == 0 && r.Group.ID != target {
					// The old group is gone; so are constraints naming it,
					// as 'pcs resource group add' does.
					x.Config.Resources = append(x.Config.Resources[:i:i], x.Config.Resources[i+1:]...)
					removeConstraintsOf(&x.Config, map[string]bool{r.Group.ID: true})
				}
				return m, nil
			}
		case r.Clone != nil && r.Clone.Child() == id:
			return nil, errorf(ErrInvalid, "%q is cloned and cannot join a group", id)
		}
	}
	if x.Config.ResourceIDs()[id] {
		return nil, errorf(ErrInvalid, "%q is not a primitive; only primitives can be group members", id)
	}
	return nil, errorf(ErrNotFound, "resource %q does not exist", id)
}

// GroupRemove takes members out of a group back to the top level; with no
// members it dissolves the group ('pcs resource ungroup'). An emptied
// group is deleted.
type GroupRemove struct {
	Group   string   `json:"group"`
	Members []string `json:"members,omitempty"`
}

func (*GroupRemove) Kind() string     { return "group.remove" }
func (*GroupRemove) Section() Section { return SectionConfig }
func (c *GroupRemove) Apply(x *cib.CIB) error {
	g := x.Config.Group(c.Group)
	if g == nil {
		return errorf(ErrNotFound, "group %q does not exist", c.Group)
	}
	ids := c.Members
	if len(ids) == 0 {
		for _, m := range g.Members {
			ids = append(ids, m.ID)
		}
	}
	var freed []cib.Resource
	for _, id := range ids {
		idx := -1
		for j, m := range g.Members {
			if m.ID == id {
				idx = j
			}
		}
		if idx < 0 {
			return errorf(ErrNotFound, "%q is not a member of group %q", id, c.Group)
		}
		freed = append(freed, cib.Resource{Primitive: g.Members[idx]})
		g.Members = append(g.Members[:idx:idx], g.Members[idx+1:]...)
	}
	var out []cib.Resource
	for _, r := range x.Config.Resources {
		if r.Group == g {
			if len(g.Members) > 0 {
				out = append(out, r)
			} else {
				removeConstraintsOf(&x.Config, map[string]bool{g.ID: true})
			}
			out = append(out, freed...)
			continue
		}
		out = append(out, r)
	}
	x.Config.Resources = out
	return nil
}
