// Package resources is the local executor every node runs (Pacemaker's
// execd): it runs agent operations with their timeouts, one at a time per
// resource, keeps recurring monitors going, listens to agents that can
// watch their resource, and keeps each resource's operation history and
// fail counts on this node.
//
// It reports changes, not results: a recurring monitor that keeps
// returning the same code is silent after its first result, so the DC
// hears about a resource only when something happened to it.
//
// What it must not do: decide policy. Whether a failed resource is
// restarted here, moved or left alone is the scheduler's decision; the
// executor only runs what it is asked to and says what it saw.
package resources
