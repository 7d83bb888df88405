// Package api is the one interface to pacerd: versioned request and
// response types, the error shape every failure takes, and a client. The
// daemon serves it on a unix socket (local pcsctl) and over mutual TLS
// (other nodes, remote pcsctl). Paths start with /v1/.
package api
