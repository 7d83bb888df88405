// Package pcs implements pcsctl: pcs's command words (cluster, status,
// property, node, resource, constraint, cib) over pacerd's API. It never
// touches the CIB directly: every change is a typed command sent to a
// node, which forwards it to the leader.
package pcs
