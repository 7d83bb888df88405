package cib

// Node is a configured cluster node with its permanent attributes
// (standby, maintenance, and anything a location rule reads).
type Node struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Standby reports the permanent standby attribute.
func (n Node) Standby() bool { return IsTrue(n.Attributes["standby"]) }

// Maintenance reports the permanent maintenance attribute.
func (n Node) Maintenance() bool { return IsTrue(n.Attributes["maintenance"]) }

// Node returns the configured node by name, or nil.
func (c *Configuration) Node(name string) *Node {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return &c.Nodes[i]
		}
	}
	return nil
}
