// Package bedstate is what the test beds of test/bed and test/clusterbed
// share to clean up after themselves: a directory of state files (one per
// bed, written before each piece of the bed is made), a lock that lets
// two processes sweep the same dead bed in turn, and the identity of a
// host process by PID and start time, so that a teardown never signals a
// process that merely reuses a recorded PID.
//
// It knows nothing of what a bed records: each bed package keeps its own
// State type and its own Teardown.
package bedstate
