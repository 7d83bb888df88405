package cib

import "time"

// Resource is one top-level entry of the resources section: exactly one of
// its fields is set. Order matters: it is the allocation order among
// resources of equal priority, as in Pacemaker.
type Resource struct {
	Primitive *Primitive `json:"primitive,omitempty"`
	Group     *Group     `json:"group,omitempty"`
	Clone     *Clone     `json:"clone,omitempty"`
}

// ID returns the id of whichever element is set.
func (r Resource) ID() string {
	switch {
	case r.Primitive != nil:
		return r.Primitive.ID
	case r.Group != nil:
		return r.Group.ID
	case r.Clone != nil:
		return r.Clone.ID
	}
	return ""
}

// Kind is "primitive", "group" or "clone".
func (r Resource) Kind() string {
	switch {
	case r.Primitive != nil:
		return "primitive"
	case r.Group != nil:
		return "group"
	case r.Clone != nil:
		return "clone"
	}
	return ""
}

// Primitive is a single resource run by one agent.
type Primitive struct {
	ID       string            `json:"id"`
	Class    string            `json:"class"`
	Provider string            `json:"provider,omitempty"`
	Type     string            `json:"type"`
	Params   map[string]string `json:"params,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	Ops      []Op              `json:"ops,omitempty"`
}

// Agent returns the agent in class:provider:type form.
func (p *Primitive) Agent() AgentName {
	return AgentName{Class: p.Class, Provider: p.Provider, Type: p.Type}
}

// Op is an operation definition: a recurring monitor, or the timeout and
// on-fail of start/stop.
type Op struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Timeout  string `json:"timeout,omitempty"`
	OnFail   string `json:"on_fail,omitempty"`
	Role     string `json:"role,omitempty"`
}

// Group is an ordered, colocated list of primitives.
type Group struct {
	ID      string            `json:"id"`
	Meta    map[string]string `json:"meta,omitempty"`
	Members []*Primitive      `json:"members"`
}

// Clone runs copies of a primitive or a group on several nodes. Only
// anonymous clones are modelled.
type Clone struct {
	ID        string            `json:"id"`
	Meta      map[string]string `json:"meta,omitempty"`
	Primitive *Primitive        `json:"primitive,omitempty"`
	Group     *Group            `json:"group,omitempty"`
}

// Child returns the id of the cloned primitive or group.
func (c *Clone) Child() string {
	if c.Primitive != nil {
		return c.Primitive.ID
	}
	if c.Group != nil {
		return c.Group.ID
	}
	return ""
}

// OpTimeout is the timeout configured for op (for a monitor, the one with
// that interval; intervalMS 0 takes any), or def when none is set.
func (p *Primitive) OpTimeout(op string, intervalMS int64, def time.Duration) time.Duration {
	for _, o := range p.Ops {
		if o.Name != op || o.Timeout == "" {
			continue
		}
		if iv, _ := ParseDuration(o.Interval); op == "monitor" && intervalMS != 0 && iv.Milliseconds() != intervalMS {
			continue
		}
		if d, err := ParseDuration(o.Timeout); err == nil && d > 0 {
			return d
		}
	}
	return def
}
