// Package store is the Raft-replicated CIB (Pacemaker's pacemaker-based):
// typed commands (cmd_*.go), the state machine that applies them (FSM),
// snapshots, the durable log (raft-boltdb), raft traffic over the
// cluster's mutual TLS (transport.go), and the voter policy (voters.go).
//
// The write path: Store.Apply runs on the leader; it checks the command
// against the current CIB with Next, encodes it (Encode: format byte +
// JSON envelope), and commits it through raft; every node's FSM then
// decodes it and swaps in the CIB that Next builds. A CIB, once
// published, is never modified, so readers (Read), snapshots and the
// scheduler share it without copying or locking.
//
// The package does not decide who is DC or when to fence; it reports
// leadership (IsLeader, LeaderChanges, LastContact) and membership
// (Servers), and executes membership plans. PlanVoters is pure.
package store
