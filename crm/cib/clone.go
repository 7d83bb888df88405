package cib

// Clone returns a deep copy, so the store can hand out snapshots that a
// caller may change without touching the replicated state.
func (c *CIB) Clone() *CIB {
	if c == nil {
		return nil
	}
	out := &CIB{Version: c.Version, Config: c.Config.Clone(), Status: c.Status.Clone(), FenceHistory: cloneFenceHistory(c.FenceHistory)}
	return out
}

// Clone deep-copies the configuration.
func (c Configuration) Clone() Configuration {
	out := Configuration{
		Properties:  cloneMap(c.Properties),
		RscDefaults: cloneMap(c.RscDefaults),
		OpDefaults:  cloneMap(c.OpDefaults),
	}
	if c.Nodes != nil {
		out.Nodes = make([]Node, len(c.Nodes))
		for i, n := range c.Nodes {
			out.Nodes[i] = Node{ID: n.ID, Name: n.Name, Attributes: cloneMap(n.Attributes)}
		}
	}
	if c.Resources != nil {
		out.Resources = make([]Resource, len(c.Resources))
		for i, r := range c.Resources {
			out.Resources[i] = Resource{Primitive: r.Primitive.clone(), Group: r.Group.clone(), Clone: r.Clone.clone()}
		}
	}
	cs := c.Constraints
	out.Constraints.Locations = cloneSlice(cs.Locations, func(l Location) Location {
		l.Rules = cloneSlice(l.Rules, func(r Rule) Rule {
			r.Expressions = cloneSlice(r.Expressions, func(e Expression) Expression { return e })
			return r
		})
		return l
	})
	out.Constraints.Colocations = cloneSlice(cs.Colocations, func(c Colocation) Colocation { return c })
	out.Constraints.Orders = cloneSlice(cs.Orders, func(o Order) Order {
		if o.Symmetrical != nil {
			b := *o.Symmetrical
			o.Symmetrical = &b
		}
		return o
	})
	out.FencingLevels = cloneSlice(c.FencingLevels, func(l FencingLevel) FencingLevel {
		l.Devices = cloneSlice(l.Devices, func(s string) string { return s })
		return l
	})
	out.Alerts = cloneAlerts(c.Alerts)
	return out
}

func (p *Primitive) clone() *Primitive {
	if p == nil {
		return nil
	}
	q := *p
	q.Params = cloneMap(p.Params)
	q.Meta = cloneMap(p.Meta)
	q.Ops = cloneSlice(p.Ops, func(o Op) Op { return o })
	return &q
}

func (g *Group) clone() *Group {
	if g == nil {
		return nil
	}
	h := &Group{ID: g.ID, Meta: cloneMap(g.Meta)}
	if g.Members != nil {
		h.Members = make([]*Primitive, len(g.Members))
		for i, m := range g.Members {
			h.Members[i] = m.clone()
		}
	}
	return h
}

func (c *Clone) clone() *Clone {
	if c == nil {
		return nil
	}
	return &Clone{ID: c.ID, Meta: cloneMap(c.Meta), Primitive: c.Primitive.clone(), Group: c.Group.clone()}
}

// Clone deep-copies the status section.
func (s Status) Clone() Status {
	out := Status{Nodes: make(map[string]*NodeStatus, len(s.Nodes))}
	for k, n := range s.Nodes {
		if n == nil {
			continue
		}
		m := *n
		if n.LastFenced != nil {
			t := *n.LastFenced
			m.LastFenced = &t
		}
		m.Attributes = cloneMap(n.Attributes)
		if n.Resources != nil {
			m.Resources = make(map[string]*ResourceHistory, len(n.Resources))
			for id, h := range n.Resources {
				if h == nil {
					continue
				}
				hh := *h
				hh.Ops = cloneSlice(h.Ops, func(o OpRecord) OpRecord {
					if o.ExpectedRC != nil {
						rc := *o.ExpectedRC
						o.ExpectedRC = &rc
					}
					return o
				})
				m.Resources[id] = &hh
			}
		}
		out.Nodes[k] = &m
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneSlice[T any](s []T, f func(T) T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}
