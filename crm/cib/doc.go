// Package cib holds the cluster information base: the configuration every
// node shares (properties, nodes, resources, constraints, defaults, fencing
// levels) and the status section (node states, transient attributes and
// operation history).
//
// The types are plain Go values with JSON tags; the replicated store
// (crm/store) owns the one live copy and hands out clones. Nothing here does
// I/O. Validate reports every problem at once so that a user fixes a bad
// command in one go instead of one error per try.
package cib
