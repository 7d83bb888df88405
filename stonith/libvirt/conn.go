package libvirt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Conn is one connection to libvirtd speaking the remote protocol. Calls
// may be made from several goroutines; a reader goroutine matches replies
// to calls by serial, answers keepalive PINGs and drops events. The reader
// ends when the connection is closed.
type Conn struct {
	nc  net.Conn
	wmu sync.Mutex // serialises frame writes

	mu      sync.Mutex
	serial  uint32
	pending map[uint32]chan Frame
	err     error // set once the reader stops
	done    chan struct{}
}

// Dial connects to libvirtd ("unix" and a socket path, or "tcp" and
// host:port) and starts the reader. Call Open next.
func Dial(ctx context.Context, network, address string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("libvirt: connecting to libvirtd at %s %s: %w", network, address, err)
	}
	return NewConn(nc), nil
}

// NewConn wraps an established connection (e.g. from a test).
func NewConn(nc net.Conn) *Conn {
	c := &Conn{nc: nc, pending: map[uint32]chan Frame{}, done: make(chan struct{})}
	go c.read()
	return c
}

func (c *Conn) read() {
	var err error
loop:
	for {
		var f Frame
		f, err = ReadFrame(c.nc)
		if err != nil {
			break
		}
		switch {
		case f.Program == keepaliveProgram && f.Proc == keepalivePing:
			pong := Frame{Header: Header{Program: keepaliveProgram, Version: protocolVersion,
				Proc: keepalivePong, Type: typeMessage}}
			if err = c.write(context.Background(), pong); err != nil {
				break loop
			}
		case f.Program == remoteProgram && f.Type == typeReply:
			c.mu.Lock()
			ch := c.pending[f.Serial]
			delete(c.pending, f.Serial)
			c.mu.Unlock()
			if ch != nil {
				ch <- f // buffered
			}
		}
		// Events (MESSAGE frames) and anything else are not needed here.
	}
	c.mu.Lock()
	c.err = fmt.Errorf("%w: %v", ErrClosed, err)
	c.pending = nil
	c.mu.Unlock()
	close(c.done)
}

func (c *Conn) write(ctx context.Context, f Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Time{}
	}
	c.nc.SetWriteDeadline(dl)
	_, err := c.nc.Write(f.Marshal())
	return err
}

// call sends a CALL and waits for its REPLY. A status-error reply is
// returned as *Error.
func (c *Conn) call(ctx context.Context, proc int32, args []byte) ([]byte, error) {
	ch := make(chan Frame, 1)
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("libvirt: %s: %w", procName(proc), err)
	}
	serial := c.serial
	c.serial++
	c.pending[serial] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, serial)
		}
		c.mu.Unlock()
	}
	f := Frame{Header: Header{Program: remoteProgram, Version: protocolVersion, Proc: proc,
		Type: typeCall, Serial: serial, Status: statusOK}, Payload: args}
	if err := c.write(ctx, f); err != nil {
		forget()
		return nil, fmt.Errorf("libvirt: sending %s: %w", procName(proc), err)
	}
	select {
	case r := <-ch:
		return c.result(proc, r)
	case <-c.done:
		select {
		case r := <-ch: // the reply came just before the connection closed
			return c.result(proc, r)
		default:
		}
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("libvirt: waiting for %s: %w", procName(proc), err)
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("libvirt: waiting for %s: %w", procName(proc), ctx.Err())
	}
}

func (c *Conn) result(proc int32, r Frame) ([]byte, error) {
	if r.Proc != proc {
		return nil, fmt.Errorf("libvirt: reply to %s carries %s", procName(proc), procName(r.Proc))
	}
	switch r.Status {
	case statusOK:
		return r.Payload, nil
	case statusError:
		return nil, decodeError(r.Payload, proc)
	}
	return nil, fmt.Errorf("libvirt: %s: unexpected reply status %d", procName(proc), r.Status)
}

// Close sends CONNECT_CLOSE (waiting at most a second) and closes the
// socket. It is safe to call more than once.
func (c *Conn) Close() error {
	select {
	case <-c.done:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.call(ctx, procConnectClose, nil)
		cancel()
	}
	err := c.nc.Close()
	<-c.done
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Open opens the hypervisor connection named by name (the driver URI
// without transport, e.g. "lxc:///system", "test:///default").
func (c *Conn) Open(ctx context.Context, name string) error {
	var e encoder
	e.optStr(&name)
	e.u32(0) // flags
	if _, err := c.call(ctx, procConnectOpen, e.b); err != nil {
		return fmt.Errorf("libvirt: opening %q: %w", name, err)
	}
	return nil
}

// AuthList returns the auth types the daemon offers (0 none, 1 SASL,
// 2 polkit).
func (c *Conn) AuthList(ctx context.Context) ([]int32, error) {
	p, err := c.call(ctx, procAuthList, nil)
	if err != nil {
		return nil, err
	}
	d := decoder{b: p}
	n := d.u32()
	if n > 20 {
		return nil, fmt.Errorf("libvirt: AUTH_LIST with %d entries", n)
	}
	out := make([]int32, 0, n)
	for i := uint32(0); i < n; i++ {
		out = append(out, d.i32())
	}
	return out, d.done()
}

// SupportsFeature asks about a remote feature (10 = keepalive: asking
// makes libvirtd send PINGs, which the reader answers).
func (c *Conn) SupportsFeature(ctx context.Context, feature int32) (bool, error) {
	var e encoder
	e.i32(feature)
	p, err := c.call(ctx, procConnectSupportsFeature, e.b)
	if err != nil {
		return false, err
	}
	d := decoder{b: p}
	v := d.i32()
	return v != 0, d.done()
}

// URI returns the canonical URI of the open connection.
func (c *Conn) URI(ctx context.Context) (string, error) {
	p, err := c.call(ctx, procConnectGetURI, nil)
	if err != nil {
		return "", err
	}
	d := decoder{b: p}
	s := d.str(maxNameLen)
	return s, d.done()
}

func (c *Conn) domainCall(ctx context.Context, proc int32, args []byte) (Domain, error) {
	p, err := c.call(ctx, proc, args)
	if err != nil {
		return Domain{}, err
	}
	d := decoder{b: p}
	dom := d.domain()
	return dom, d.done()
}

// LookupByName finds a domain by name.
func (c *Conn) LookupByName(ctx context.Context, name string) (Domain, error) {
	var e encoder
	e.str(name)
	return c.domainCall(ctx, procDomainLookupByName, e.b)
}

// LookupByUUID finds a domain by UUID.
func (c *Conn) LookupByUUID(ctx context.Context, u UUID) (Domain, error) {
	var e encoder
	e.uuid(u)
	return c.domainCall(ctx, procDomainLookupByUUID, e.b)
}

// State returns a domain's state and the reason code for it.
func (c *Conn) State(ctx context.Context, dom Domain) (DomainState, int32, error) {
	var e encoder
	e.domain(dom)
	e.u32(0)
	p, err := c.call(ctx, procDomainGetState, e.b)
	if err != nil {
		return 0, 0, err
	}
	d := decoder{b: p}
	st, reason := d.i32(), d.i32()
	return DomainState(st), reason, d.done()
}

// Destroy powers a domain off at once (virDomainDestroy).
func (c *Conn) Destroy(ctx context.Context, dom Domain) error {
	var e encoder
	e.domain(dom)
	_, err := c.call(ctx, procDomainDestroy, e.b)
	return err
}

// Create starts a defined, inactive domain (virDomainCreate).
func (c *Conn) Create(ctx context.Context, dom Domain) error {
	var e encoder
	e.domain(dom)
	_, err := c.call(ctx, procDomainCreate, e.b)
	return err
}

// ListAll returns the domains matching flags (0 = all, active and
// inactive).
func (c *Conn) ListAll(ctx context.Context, flags uint32) ([]Domain, error) {
	var e encoder
	e.i32(1) // need_results
	e.u32(flags)
	p, err := c.call(ctx, procConnectListAllDomains, e.b)
	if err != nil {
		return nil, err
	}
	d := decoder{b: p}
	n := d.u32()
	if n > maxDomainList {
		return nil, fmt.Errorf("libvirt: list of %d domains exceeds %d", n, maxDomainList)
	}
	out := make([]Domain, 0, min(n, 1024))
	for i := uint32(0); i < n && d.err == nil; i++ {
		out = append(out, d.domain())
	}
	d.u32() // ret: the count again
	return out, d.done()
}
