// Package daemon is pacerd: it wires gossip membership, the Raft-backed
// CIB and the API together on one node, and shuts them down in the order
// that lets the rest of the cluster carry on (leave gossip, hand over Raft
// leadership, then close).
package daemon
