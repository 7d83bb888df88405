package libvirt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"pacer/stonith"
)

// DefaultSocket is libvirtd's read-write socket on Debian.
const DefaultSocket = "/run/libvirt/libvirt-sock"

// Target is where a libvirt URI points: how to reach libvirtd and which
// driver to open there.
type Target struct {
	Network string // "unix" or "tcp"
	Address string // socket path or host:port
	Name    string // the URI sent in CONNECT_OPEN, e.g. "lxc:///system"
}

// ParseURI splits a libvirt URI as the remote driver does:
// "lxc+unix:///system?socket=/p" dials the unix socket /p and opens
// "lxc:///system"; "test+tcp://127.0.0.1:16509/default" dials TCP and
// opens "test:///default"; "qemu:///system" uses the default socket.
// A name= query parameter overrides the opened name. TLS, SSH and other
// transports are not supported.
func ParseURI(uri string) (Target, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return Target{}, fmt.Errorf("libvirt: bad URI %q: %w", uri, err)
	}
	driver, transport, _ := strings.Cut(u.Scheme, "+")
	if driver == "" {
		return Target{}, fmt.Errorf("libvirt: URI %q has no driver", uri)
	}
	q := u.Query()
	// The remote driver strips the transport and host: libvirtd gets
	// driver://PATH ("lxc:///system").
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	t := Target{Name: driver + "://" + path}
	if n := q.Get("name"); n != "" {
		t.Name = n
	}
	if transport == "" {
		if u.Host != "" {
			transport = "tls"
		} else {
			transport = "unix"
		}
	}
	switch transport {
	case "unix":
		t.Network, t.Address = "unix", q.Get("socket")
		if t.Address == "" {
			t.Address = DefaultSocket
		}
	case "tcp":
		t.Network, t.Address = "tcp", u.Host
		if u.Host == "" {
			return Target{}, fmt.Errorf("libvirt: URI %q: tcp transport needs a host", uri)
		}
		if u.Port() == "" {
			t.Address = net.JoinHostPort(u.Hostname(), "16509")
		}
	default:
		return Target{}, fmt.Errorf("libvirt: URI %q: transport %q is not supported (use unix or tcp)", uri, transport)
	}
	return t, nil
}

// Connect dials the target, authenticates and opens its driver.
// Authentication: none, or polkit (libvirtd's default for its read-write
// socket, which it grants to root without asking polkit); SASL is not
// supported.
func Connect(ctx context.Context, t Target) (*Conn, error) {
	c, err := Dial(ctx, t.Network, t.Address)
	if err != nil {
		return nil, err
	}
	if err := c.authenticate(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("libvirt: %s %s: %w", t.Network, t.Address, err)
	}
	if err := c.Open(ctx, t.Name); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) authenticate(ctx context.Context) error {
	types, err := c.AuthList(ctx)
	if err != nil {
		return err
	}
	if len(types) == 0 || slices.Contains(types, 0) {
		return nil
	}
	if slices.Contains(types, 2) {
		p, err := c.call(ctx, procAuthPolkit, nil)
		if err != nil {
			return fmt.Errorf("polkit authentication: %w", err)
		}
		d := decoder{b: p}
		if complete := d.i32(); d.done() != nil || complete == 0 {
			return errors.New("polkit authentication did not complete")
		}
		return nil
	}
	return fmt.Errorf("libvirtd requires authentication %v (1 = SASL), which this client does not support: "+
		"connect as root over the unix socket, or set auth_tcp = \"none\" on a trusted network", types)
}

// Device is a stonith.Device that destroys and starts libvirt domains
// directly over libvirt's RPC protocol. Each operation uses its own
// connection (a unix-socket connect and open take about a millisecond), so
// a restarted libvirtd never leaves a stale connection behind.
type Device struct {
	target Target
	uri    string
	// PollInterval is how often Fence re-reads the state while waiting
	// for a destroyed domain to reach shut off (default 50 ms).
	PollInterval time.Duration
}

var _ stonith.Device = (*Device)(nil)

// NewDevice returns a Device for a libvirt URI (see ParseURI).
func NewDevice(uri string) (*Device, error) {
	t, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	return &Device{target: t, uri: uri, PollInterval: 50 * time.Millisecond}, nil
}

// DeviceFromParams builds a Device from stonith resource parameters:
// uri (required), as fence_virsh-like agents name it.
func DeviceFromParams(params map[string]string) (*Device, error) {
	uri := params["uri"]
	if uri == "" {
		return nil, errors.New("libvirt: parameter uri is required (e.g. qemu:///system or lxc+unix:///system?socket=/run/libvirt/libvirt-sock)")
	}
	return NewDevice(uri)
}

func (d *Device) connect(ctx context.Context) (*Conn, error) {
	c, err := Connect(ctx, d.target)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", stonith.ErrNoAnswer, d.uri, err)
	}
	return c, nil
}

// lookup finds plug by UUID when it parses as one, else by name (as
// fence_virtd does).
func (d *Device) lookup(ctx context.Context, c *Conn, plug string) (Domain, error) {
	var dom Domain
	var err error
	if u, uerr := ParseUUID(plug); uerr == nil {
		dom, err = c.LookupByUUID(ctx, u)
	} else {
		dom, err = c.LookupByName(ctx, plug)
	}
	if IsCode(err, ErrCodeNoDomain) {
		return dom, fmt.Errorf("%w: %s has no domain %q: %w", stonith.ErrNoSuchTarget, d.uri, plug, err)
	}
	if err != nil {
		return dom, fmt.Errorf("libvirt %s: looking up %q: %w", d.uri, plug, err)
	}
	return dom, nil
}

// Fence destroys (off), starts (on) or destroys and starts (reboot) the
// domain plug. off succeeds only once libvirt reports the domain shut off;
// a domain that is already off counts as success, and so does on for a
// domain already running.
func (d *Device) Fence(ctx context.Context, plug string, action stonith.Action) (stonith.Result, error) {
	start := time.Now()
	res := stonith.Result{Action: action, Plug: plug}
	if err := stonith.CheckFenceAction(action); err != nil {
		return res, err
	}
	err := d.fence(ctx, plug, action, &res)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("libvirt %s %q: %w", action, plug, err)
	}
	return res, nil
}

func (d *Device) fence(ctx context.Context, plug string, action stonith.Action, res *stonith.Result) error {
	c, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	dom, err := d.lookup(ctx, c, plug)
	if err != nil {
		return err
	}
	if action == stonith.ActionOff || action == stonith.ActionReboot {
		if err := d.off(ctx, c, dom); err != nil {
			return err
		}
		res.State = stonith.PowerOff
		if action == stonith.ActionOff {
			return nil
		}
	}
	st, _, err := c.State(ctx, dom)
	if err != nil {
		return fmt.Errorf("%w: reading state: %w", stonith.ErrFailed, err)
	}
	if st != StateShutoff {
		res.State = stonith.PowerOn
		return nil
	}
	if err := c.Create(ctx, dom); err != nil && !IsCode(err, ErrCodeOperationInvalid) {
		return fmt.Errorf("%w: starting: %w", stonith.ErrFailed, err)
	}
	res.State = stonith.PowerOn
	return nil
}

// off destroys dom and waits until libvirt reports it shut off.
func (d *Device) off(ctx context.Context, c *Conn, dom Domain) error {
	err := c.Destroy(ctx, dom)
	if err != nil && !IsCode(err, ErrCodeOperationInvalid) { // 55: not running
		return fmt.Errorf("%w: destroying: %w", stonith.ErrFailed, err)
	}
	for {
		st, _, err := c.State(ctx, dom)
		if err != nil {
			return fmt.Errorf("%w: reading state after destroy: %w", stonith.ErrFailed, err)
		}
		if st == StateShutoff {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: domain still %v after destroy: %w", stonith.ErrFailed, st, ctx.Err())
		case <-time.After(d.PollInterval):
		}
	}
}

// Status reports whether plug is running (any state but shut off counts as
// on, as in fence_virtd); an unknown domain is an error wrapping
// stonith.ErrNoSuchTarget.
func (d *Device) Status(ctx context.Context, plug string) (stonith.PowerState, error) {
	c, err := d.connect(ctx)
	if err != nil {
		return stonith.PowerUnknown, fmt.Errorf("libvirt status %q: %w", plug, err)
	}
	defer c.Close()
	dom, err := d.lookup(ctx, c, plug)
	if err != nil {
		return stonith.PowerUnknown, fmt.Errorf("libvirt status %q: %w", plug, err)
	}
	st, _, err := c.State(ctx, dom)
	if err != nil {
		return stonith.PowerUnknown, fmt.Errorf("libvirt status %q: %w", plug, err)
	}
	return powerOf(st), nil
}

func powerOf(st DomainState) stonith.PowerState {
	if st == StateShutoff {
		return stonith.PowerOff
	}
	return stonith.PowerOn
}

// List returns all domains (active and inactive) with their state.
func (d *Device) List(ctx context.Context) ([]stonith.Target, error) {
	c, err := d.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("libvirt list: %w", err)
	}
	defer c.Close()
	doms, err := c.ListAll(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("libvirt list %s: %w", d.uri, err)
	}
	out := make([]stonith.Target, 0, len(doms))
	for _, dom := range doms {
		t := stonith.Target{Name: dom.Name, UUID: dom.UUID.String()}
		if st, _, err := c.State(ctx, dom); err == nil {
			t.State = powerOf(st)
		}
		out = append(out, t)
	}
	return out, nil
}

// Monitor connects, opens the driver and reads its URI.
func (d *Device) Monitor(ctx context.Context) error {
	c, err := d.connect(ctx)
	if err != nil {
		return fmt.Errorf("libvirt monitor: %w", err)
	}
	defer c.Close()
	if _, err := c.URI(ctx); err != nil {
		return fmt.Errorf("libvirt monitor %s: %w", d.uri, err)
	}
	return nil
}
