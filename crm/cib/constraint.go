package cib

// Constraints holds the three kinds Pacemaker users write most.
type Constraints struct {
	Locations   []Location   `json:"locations,omitempty"`
	Colocations []Colocation `json:"colocations,omitempty"`
	Orders      []Order      `json:"orders,omitempty"`
}

// Location prefers or avoids nodes: either Node+Score, or Rules.
type Location struct {
	ID       string `json:"id"`
	Resource string `json:"resource"`
	Node     string `json:"node,omitempty"`
	Score    string `json:"score,omitempty"`
	Rules    []Rule `json:"rules,omitempty"`
}

// Rule scores nodes whose attributes match its expressions.
type Rule struct {
	ID          string       `json:"id"`
	Score       string       `json:"score,omitempty"`
	BooleanOp   string       `json:"boolean_op,omitempty"` // "and" (default) or "or"
	Expressions []Expression `json:"expressions"`
}

// Expression compares a node attribute (or #uname) with a value.
type Expression struct {
	ID        string `json:"id"`
	Attribute string `json:"attribute"`
	Operation string `json:"operation"` // eq ne lt gt lte gte defined not_defined
	Value     string `json:"value,omitempty"`
	Type      string `json:"type,omitempty"` // string (default), integer, number, version
}

// Colocation places Resource relative to WithResource.
type Colocation struct {
	ID           string `json:"id"`
	Resource     string `json:"resource"`
	WithResource string `json:"with_resource"`
	Score        string `json:"score"`
}

// Order starts Then after First (and, when symmetrical, stops it before).
type Order struct {
	ID          string `json:"id"`
	First       string `json:"first"`
	FirstAction string `json:"first_action,omitempty"` // default start
	Then        string `json:"then"`
	ThenAction  string `json:"then_action,omitempty"` // default: FirstAction
	Kind        string `json:"kind,omitempty"`        // Mandatory (default), Optional, Serialize
	Symmetrical *bool  `json:"symmetrical,omitempty"` // default true
}

// IsSymmetrical applies Pacemaker's default (true, except for Serialize).
func (o Order) IsSymmetrical() bool {
	if o.Symmetrical != nil {
		return *o.Symmetrical
	}
	return o.Kind != "Serialize"
}

// ConstraintIDs lists every constraint id, for lookups and removal.
func (c Constraints) ConstraintIDs() []string {
	var ids []string
	for _, l := range c.Locations {
		ids = append(ids, l.ID)
	}
	for _, l := range c.Colocations {
		ids = append(ids, l.ID)
	}
	for _, l := range c.Orders {
		ids = append(ids, l.ID)
	}
	return ids
}
