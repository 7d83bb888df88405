// Package testbed runs real pacerd processes on 127.0.0.1 for end-to-end
// tests and benchmarks: configs from the same code as 'pcsctl cluster
// setup', free ports, a data directory per node, and fault injection
// (SIGKILL, SIGSTOP, restart). Every process it starts is ended by PID
// when the cluster is closed, also when a test fails.
package testbed
