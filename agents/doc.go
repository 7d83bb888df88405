// Package agents is the one interface behind which every resource agent
// sits: real OCF scripts (agents/ocf), systemd units over D-Bus
// (agents/systemd), the native IPaddr2 (agents/ipaddr2) and a stateful test
// agent (agents/dummy). It is pacer's equivalent of Pacemaker's
// lib/services plus the resource-agents package.
//
// The common language is the OCF return code (Code) plus an execution
// status (Status) that says whether the agent ran to completion, timed out,
// is still pending or could not be run at all, exactly as Pacemaker's
// executor separates rc from op-status.
//
// An Agent is stateless from the caller's point of view: every call gets
// the resource's parameters and meta attributes in a Request and a context
// whose deadline is the operation timeout. Agents that can observe their
// resource (netlink address events, systemd unit property changes, a state
// file) also implement Watcher, so the executor (resources/) learns of a
// failure the moment it happens instead of at the next monitor interval.
//
// What this package must not do: keep global state, start goroutines that
// outlive the context they were given, or decide policy (restarts, fail
// counts, ordering): that is the executor's and the scheduler's job.
package agents
