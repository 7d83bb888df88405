// Package xvm is a client (and the daemon-side primitives) of the
// fence_xvm protocol spoken by fence_virtd on libvirt hosts, written from
// shared/fencing/PROTOCOL-fence_xvm.md and checked byte for byte against
// captures of Debian's fence_xvm/fence_virtd 4.12.1.
//
// One operation: the client listens on a TCP port, sends a 176-byte
// request signed with H(key || request) — to fence_virtd's multicast group
// (225.0.0.12:1229 by default) or a unicast address — and fence_virtd
// connects back; both sides prove knowledge of the key with a 64-byte
// challenge–response each way; fence_virtd acts and writes a result byte
// (or a host list). With fence_virtd's "tcp" listener the client connects
// instead and runs the same exchange on that connection.
//
// fence_virtd drops a request it cannot verify without a word, so a wrong
// key or a weaker hash looks like an unreachable daemon: errors then wrap
// stonith.ErrNoAnswer and say both. A wrong challenge–response hash or key
// is detected on the callback and wraps stonith.ErrAuth.
//
// Device adapts a Client to stonith.Device; DeviceFromParams reads the
// parameters of a fence_xvm stonith resource (key_file, multicast_address,
// ipport, hash, auth, ...). Each call uses its own listener on an ephemeral
// port and a random seqno, so calls may run concurrently (fence_xvm
// itself serialises on TCP port 1229).
package xvm
