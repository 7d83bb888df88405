package store

import (
	"fmt"

	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &AddNode{} })
	register(func() Command { return &RemoveNode{} })
	register(func() Command { return &SetNodeAttribute{} })
}

// AddNode configures a node (done for every node at cluster setup and when
// a new node joins).
type AddNode struct {
	Name string `json:"name"`
}

func (*AddNode) Kind() string     { return "node.add" }
func (*AddNode) Section() Section { return SectionConfig }
func (c *AddNode) Apply(x *cib.CIB) error {
	if x.Config.Node(c.Name) != nil {
		return errorf(ErrExists, "node %q is already in the cluster", c.Name)
	}
	x.Config.Nodes = append(x.Config.Nodes, cib.Node{ID: nextNodeID(x), Name: c.Name})
	return nil
}

func nextNodeID(x *cib.CIB) string {
	used := map[string]bool{}
	for _, n := range x.Config.Nodes {
		used[n.ID] = true
	}
	for i := 1; ; i++ {
		id := fmt.Sprint(i)
		if !used[id] {
			return id
		}
	}
}

// RemoveNode deletes a node's configuration and status.
type RemoveNode struct {
	Name string `json:"name"`
}

func (*RemoveNode) Kind() string     { return "node.remove" }
func (*RemoveNode) Section() Section { return SectionConfig }
func (c *RemoveNode) Apply(x *cib.CIB) error {
	for i, n := range x.Config.Nodes {
		if n.Name == c.Name {
			x.Config.Nodes = append(x.Config.Nodes[:i], x.Config.Nodes[i+1:]...)
			delete(x.Status.Nodes, c.Name)
			return nil
		}
	}
	return errorf(ErrNotFound, "node %q is not in the cluster", c.Name)
}

// SetNodeAttribute sets (Value != "") or removes a permanent node
// attribute: standby, maintenance, or one a location rule reads.
type SetNodeAttribute struct {
	Node  string `json:"node"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (*SetNodeAttribute) Kind() string     { return "node.attribute" }
func (*SetNodeAttribute) Section() Section { return SectionConfig }
func (c *SetNodeAttribute) Apply(x *cib.CIB) error {
	n := x.Config.Node(c.Node)
	if n == nil {
		return errorf(ErrNotFound, "node %q is not in the cluster; 'pcsctl status' lists the nodes", c.Node)
	}
	if c.Name == "" {
		return errorf(ErrInvalid, "attribute name is empty")
	}
	if c.Value == "" {
		delete(n.Attributes, c.Name)
		return nil
	}
	if n.Attributes == nil {
		n.Attributes = map[string]string{}
	}
	n.Attributes[c.Name] = c.Value
	return nil
}
