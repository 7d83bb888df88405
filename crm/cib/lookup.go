package cib

// Primitives returns every primitive in document order, including group
// members and cloned primitives.
func (c *Configuration) Primitives() []*Primitive {
	var out []*Primitive
	for _, r := range c.Resources {
		switch {
		case r.Primitive != nil:
			out = append(out, r.Primitive)
		case r.Group != nil:
			out = append(out, r.Group.Members...)
		case r.Clone != nil && r.Clone.Primitive != nil:
			out = append(out, r.Clone.Primitive)
		case r.Clone != nil && r.Clone.Group != nil:
			out = append(out, r.Clone.Group.Members...)
		}
	}
	return out
}

// ResourceIDs is the set of ids a constraint may name: primitives, groups
// and clones.
func (c *Configuration) ResourceIDs() map[string]bool {
	ids := map[string]bool{}
	for _, r := range c.Resources {
		ids[r.ID()] = true
		switch {
		case r.Group != nil:
			for _, m := range r.Group.Members {
				ids[m.ID] = true
			}
		case r.Clone != nil && r.Clone.Primitive != nil:
			ids[r.Clone.Primitive.ID] = true
		case r.Clone != nil && r.Clone.Group != nil:
			ids[r.Clone.Group.ID] = true
			for _, m := range r.Clone.Group.Members {
				ids[m.ID] = true
			}
		}
	}
	return ids
}

// Primitive finds a primitive anywhere in the tree, or nil.
func (c *Configuration) Primitive(id string) *Primitive {
	for _, p := range c.Primitives() {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Group finds a top-level group by id, or nil.
func (c *Configuration) Group(id string) *Group {
	for _, r := range c.Resources {
		if r.Group != nil && r.Group.ID == id {
			return r.Group
		}
	}
	return nil
}

// GroupOf returns the top-level group that holds primitive id, or nil.
func (c *Configuration) GroupOf(id string) *Group {
	for _, r := range c.Resources {
		if r.Group == nil {
			continue
		}
		for _, m := range r.Group.Members {
			if m.ID == id {
				return r.Group
			}
		}
	}
	return nil
}
