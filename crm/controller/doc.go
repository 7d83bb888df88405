// Package controller is the DC: it runs on the Raft leader only and turns
// the scheduler's transitions into actions on nodes.
//
// Each round it brings the CIB's node states in line with gossip, probes
// resources on nodes that have no history of them, asks the scheduler
// for a transition, and executes its graph: every action whose
// predecessors succeeded is sent to its node (or to the fencer) at once;
// each result is written to the CIB status through Raft before anything
// that depends on it starts. A failed action, or a change of the
// configuration or of membership, stops the dispatch of new actions; the
// round ends when the running ones have finished and the next round
// computes a fresh transition from what is now true.
//
// Everything the DC knows is in the CIB, so a new DC after a leader
// change simply starts its first round: actions already done are in the
// history and are not repeated.
//
// What it must not do: decide placement (the scheduler does) or touch a
// resource itself (executors on the nodes do).
package controller
