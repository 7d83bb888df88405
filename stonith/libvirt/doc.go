// Package libvirt is a small client of libvirtd's RPC protocol (the
// "remote" program, XDR over a unix socket or plain TCP) for the calls
// fencing needs: open/close, list all domains, lookup by name or UUID,
// state, destroy and create. The Go bindings are not used (not obtainable
// here); the wire format is in shared/fencing/PROTOCOL-libvirt-rpc.md and
// the tests replay captured virsh and probe sessions against Debian's
// libvirtd 9.0 byte for byte.
//
// A Conn runs one reader goroutine that matches replies to calls by
// serial, answers keepalive PINGs and drops events; it ends with the
// connection. libvirtd's errors come back as *Error with libvirtd's own
// message and code.
//
// Device adapts it to stonith.Device with fence_virtd's semantics: off is
// destroy (success once libvirt reports shut off; already off counts),
// on is create, reboot is destroy then create, a plug is looked up by
// UUID when it parses as one and by name otherwise.
package libvirt
