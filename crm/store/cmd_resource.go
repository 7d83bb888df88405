package store

import (
	"sort"

	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &CreateResource{} })
	register(func() Command { return &UpdateResource{} })
	register(func() Command { return &DeleteResource{} })
}

// CreateResource adds a primitive at the top level or, with Group set, to
// that group (created when missing), as 'pcs resource create --group'.
type CreateResource struct {
	Primitive cib.Primitive `json:"primitive"`
	Group     string        `json:"group,omitempty"`
	Before    string        `json:"before,omitempty"`
	After     string        `json:"after,omitempty"`
}

func (*CreateResource) Kind() string     { return "resource.create" }
func (*CreateResource) Section() Section { return SectionConfig }
func (c *CreateResource) Apply(x *cib.CIB) error {
	if x.Config.ResourceIDs()[c.Primitive.ID] {
		return errorf(ErrExists, "resource %q already exists: choose another id, or change it with 'pcsctl resource update'", c.Primitive.ID)
	}
	p := c.Primitive
	if c.Group == "" {
		if c.Before != "" || c.After != "" {
			return errorf(ErrInvalid, "before/after need a group to place the resource in")
		}
		x.Config.Resources = append(x.Config.Resources, cib.Resource{Primitive: &p})
		return nil
	}
	g, err := ensureGroup(x, c.Group)
	if err != nil {
		return err
	}
	return insertMembers(g, []*cib.Primitive{&p}, c.Before, c.After)
}

// ensureGroup returns the top-level group id, creating it at the end.
func ensureGroup(x *cib.CIB, id string) (*cib.Group, error) {
	if g := x.Config.Group(id); g != nil {
		return g, nil
	}
	if x.Config.ResourceIDs()[id] {
		return nil, errorf(ErrInvalid, "%q is a resource but not a group: choose another group name", id)
	}
	g := &cib.Group{ID: id}
	x.Config.Resources = append(x.Config.Resources, cib.Resource{Group: g})
	return g, nil
}

func insertMembers(g *cib.Group, ps []*cib.Primitive, before, after string) error {
	if before != "" && after != "" {
		return errorf(ErrInvalid, "give --before or --after, not both")
	}
	at := len(g.Members)
	if ref := before + after; ref != "" {
		at = -1
		for i, m := range g.Members {
			if m.ID == ref {
				at = i
				if after != "" {
					at = i + 1
				}
			}
		}
		if at < 0 {
			return errorf(ErrNotFound, "%q is not a member of group %q", ref, g.ID)
		}
	}
	members := append([]*cib.Primitive{}, g.Members[:at]...)
	members = append(members, ps...)
	g.Members = append(members, g.Members[at:]...)
	return nil
}

// UpdateResource changes a resource's params, meta attributes and
// operations. An empty value removes the key. An op replaces every op of
// the same name (as 'pcs resource update RSC op monitor ...').
type UpdateResource struct {
	ID     string            `json:"id"`
	Params map[string]string `json:"params,omitempty"`
	Meta   map[string]string `json:"meta,omitempty"`
	Ops    []cib.Op          `json:"ops,omitempty"`
}

func (*UpdateResource) Kind() string     { return "resource.update" }
func (*UpdateResource) Section() Section { return SectionConfig }
func (c *UpdateResource) Apply(x *cib.CIB) error {
	var meta *map[string]string
	p := x.Config.Primitive(c.ID)
	switch {
	case p != nil:
		meta = &p.Meta
	default:
		for _, r := range x.Config.Resources {
			switch {
			case r.Group != nil && r.Group.ID == c.ID:
				meta = &r.Group.Meta
			case r.Clone != nil && r.Clone.ID == c.ID:
				meta = &r.Clone.Meta
			case r.Clone != nil && r.Clone.Group != nil && r.Clone.Group.ID == c.ID:
				meta = &r.Clone.Group.Meta
			}
		}
	}
	if meta == nil {
		return errorf(ErrNotFound, "resource %q does not exist; 'pcsctl resource status' lists them", c.ID)
	}
	if p == nil && (len(c.Params) > 0 || len(c.Ops) > 0) {
		return errorf(ErrInvalid, "%q is a group or clone: only meta attributes can be set on it", c.ID)
	}
	if p != nil {
		mergeMap(&p.Params, c.Params)
		if len(c.Ops) > 0 {
			replaced := map[string]bool{}
			for _, op := range c.Ops {
				replaced[op.Name] = true
			}
			var kept []cib.Op
			for _, op := range p.Ops {
				if !replaced[op.Name] {
					kept = append(kept, op)
				}
			}
			p.Ops = append(kept, c.Ops...)
		}
	}
	mergeMap(meta, c.Meta)
	return nil
}

func mergeMap(dst *map[string]string, src map[string]string) {
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if src[k] == "" {
			delete(*dst, k)
			continue
		}
		if *dst == nil {
			*dst = map[string]string{}
		}
		(*dst)[k] = src[k]
	}
	if len(*dst) == 0 {
		*dst = nil
	}
}

// DeleteResource removes a primitive, group (with its members) or clone,
// and every constraint and fencing level that names it, as pcs does.
type DeleteResource struct {
	ID string `json:"id"`
}

func (*DeleteResource) Kind() string     { return "resource.delete" }
func (*DeleteResource) Section() Section { return SectionConfig }
func (c *DeleteResource) Apply(x *cib.CIB) error {
	gone := map[string]bool{}
	var kept []cib.Resource
	found := false
	for _, r := range x.Config.Resources {
		switch {
		case r.ID() == c.ID:
			found = true
			for id := range (&cib.Configuration{Resources: []cib.Resource{r}}).ResourceIDs() {
				gone[id] = true
			}
			continue
		case r.Group != nil:
			for i, m := range r.Group.Members {
				if m.ID == c.ID {
					found = true
					gone[m.ID] = true
					r.Group.Members = append(r.Group.Members[:i:i], r.Group.Members[i+1:]...)
					break
				}
			}
			if len(r.Group.Members) == 0 {
				gone[r.Group.ID] = true
				continue
			}
		case r.Clone != nil && r.Clone.Child() == c.ID:
			return errorf(ErrInvalid, "%q is cloned by %q: delete the clone instead", c.ID, r.Clone.ID)
		case r.Clone != nil && r.Clone.Group != nil:
			g := r.Clone.Group
			for i, m := range g.Members {
				if m.ID == c.ID {
					found = true
					gone[m.ID] = true
					g.Members = append(g.Members[:i:i], g.Members[i+1:]...)
					break
				}
			}
			if len(g.Members) == 0 {
				gone[g.ID], gone[r.Clone.ID] = true, true
				continue
			}
		}
		kept = append(kept, r)
	}
	if !found {
		return errorf(ErrNotFound, "resource %q does not exist; 'pcsctl resource status' lists them", c.ID)
	}
	x.Config.Resources = kept
	removeConstraintsOf(&x.Config, gone)
	// Where a deleted resource is not running its history goes too (so
	// old failures do not linger in status); where it runs, the DC needs
	// the history to stop it, and forgets it after.
	for _, ns := range x.Status.Nodes {
		for id := range gone {
			if h, ok := ns.Resources[id]; ok && !h.Active() {
				delete(ns.Resources, id)
				for k := range ns.Attributes {
					if cib.IsFailAttr(k, id) {
						delete(ns.Attributes, k)
					}
				}
			}
		}
	}
	var levels []cib.FencingLevel
	for _, l := range x.Config.FencingLevels {
		var devs []string
		for _, d := range l.Devices {
			if !gone[d] {
				devs = append(devs, d)
			}
		}
		if len(devs) > 0 {
			l.Devices = devs
			levels = append(levels, l)
		}
	}
	x.Config.FencingLevels = levels
	return nil
}

func removeConstraintsOf(cfg *cib.Configuration, gone map[string]bool) {
	cs := &cfg.Constraints
	cs.Locations = filter(cs.Locations, func(l cib.Location) bool { return !gone[l.Resource] })
	cs.Colocations = filter(cs.Colocations, func(c cib.Colocation) bool { return !gone[c.Resource] && !gone[c.WithResource] })
	cs.Orders = filter(cs.Orders, func(o cib.Order) bool { return !gone[o.First] && !gone[o.Then] })
}

func filter[T any](s []T, keep func(T) bool) []T {
	var out []T
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}
