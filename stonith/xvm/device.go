package xvm

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"pacer/stonith"
)

// Device is a stonith.Device that fences libvirt domains through
// fence_virtd.
type Device struct {
	c *Client
	// UseUUID marks plugs as UUIDs in the request (fence_xvm -u). The
	// libvirt backend of fence_virtd looks a string up by UUID whenever it
	// parses as one, so this only changes the flag on the wire.
	UseUUID bool
	// Delay is waited before off, on and reboot (fence_xvm's delay
	// parameter; a two-node cluster sets it on one side so that side
	// loses a fence race).
	Delay time.Duration
}

var _ stonith.Device = (*Device)(nil)

// NewDevice returns a Device over a new Client.
func NewDevice(cfg Config) (*Device, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &Device{c: c}, nil
}

// Client returns the underlying client.
func (d *Device) Client() *Client { return d.c }

// ConfigFromParams builds a Config from the parameters of a fence_xvm
// stonith resource, with fence_xvm's names and units, so that
// `stonith create ID fence_xvm key_file=... multicast_address=...` keeps
// its meaning: key_file (default /etc/cluster/fence_xvm.key), hash, auth
// (none|sha1|sha256|sha512), multicast_address, ipport, retrans (tenths of
// a second), timeout (seconds), ip_family (ipv4|ipv6|auto). pacer adds
// ipaddr (use fence_virtd's tcp listener at that address, as fence_virt
// does), callback_address and callback_port. use_uuid and delay are read
// by DeviceFromParams; other parameters (pcmk_*, ...) belong to the fencer.
func ConfigFromParams(params map[string]string) (Config, error) {
	cfg, _, err := configFromParams(params)
	return cfg, err
}

func configFromParams(params map[string]string) (Config, bool, error) {
	var cfg Config
	keyFile := "/etc/cluster/fence_xvm.key"
	if v := params["key_file"]; v != "" {
		keyFile = v
	}
	var err error
	parseHash := func(name string) (Hash, bool, error) {
		v, ok := params[name]
		if !ok || v == "" {
			return HashSHA256, false, nil
		}
		h, err := ParseHash(v)
		return h, h == HashNone, err
	}
	var noHash, noAuth bool
	if cfg.Hash, noHash, err = parseHash("hash"); err != nil {
		return cfg, false, err
	}
	if cfg.Auth, noAuth, err = parseHash("auth"); err != nil {
		return cfg, false, err
	}
	if noHash != noAuth {
		return cfg, false, fmt.Errorf("xvm: hash=%v with auth=%v is not supported: set both to none or neither", cfg.Hash, cfg.Auth)
	}
	cfg.NoAuth = noHash && noAuth
	if !cfg.NoAuth {
		if cfg.Key, err = ReadKeyFile(keyFile); err != nil {
			return cfg, false, err
		}
	}
	port := DefaultPort
	if v := params["ipport"]; v != "" {
		if port, err = strconv.Atoi(v); err != nil || port <= 0 || port > 65535 {
			return cfg, false, fmt.Errorf("xvm: invalid ipport %q", v)
		}
	}
	host := DefaultMulticastAddr
	if params["ip_family"] == "ipv6" {
		host = DefaultMulticastAddr6
	}
	if v := params["multicast_address"]; v != "" {
		host = v
	}
	if v := params["ipaddr"]; v != "" {
		cfg.Transport, host = TCP, v
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return cfg, false, fmt.Errorf("xvm: invalid address %q: %w", host, err)
	}
	cfg.Addr = netip.AddrPortFrom(a, uint16(port)).String()
	if v := params["retrans"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return cfg, false, fmt.Errorf("xvm: invalid retrans %q (tenths of a second)", v)
		}
		cfg.Retransmit = time.Duration(n) * 100 * time.Millisecond
	}
	if v := params["timeout"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return cfg, false, fmt.Errorf("xvm: invalid timeout %q (seconds)", v)
		}
		cfg.Timeout = time.Duration(n) * time.Second
	}
	if v := params["callback_address"]; v != "" {
		if cfg.CallbackAddr, err = netip.ParseAddr(v); err != nil {
			return cfg, false, fmt.Errorf("xvm: invalid callback_address %q: %w", v, err)
		}
	}
	if v := params["callback_port"]; v != "" {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return cfg, false, fmt.Errorf("xvm: invalid callback_port %q", v)
		}
		cfg.CallbackPort = uint16(n)
	}
	useUUID := false
	switch strings.ToLower(params["use_uuid"]) {
	case "1", "yes", "true", "on":
		useUUID = true
	}
	return cfg, useUUID, nil
}

// DeviceFromParams is ConfigFromParams followed by NewDevice, with
// use_uuid and delay (seconds) set on the Device.
func DeviceFromParams(params map[string]string) (*Device, error) {
	cfg, useUUID, err := configFromParams(params)
	if err != nil {
		return nil, err
	}
	d, err := NewDevice(cfg)
	if err != nil {
		return nil, err
	}
	d.UseUUID = useUUID
	if v := params["delay"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("xvm: invalid delay %q (seconds)", v)
		}
		d.Delay = time.Duration(n) * time.Second
	}
	return d, nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (d *Device) do(ctx context.Context, op Op, plug string) (Reply, error) {
	if len(plug) > DomainSize-1 {
		return Reply{}, fmt.Errorf("xvm: domain %q is longer than %d bytes", plug, DomainSize-1)
	}
	return d.c.Do(ctx, op, plug, d.UseUUID && uuidRE.MatchString(plug))
}

// Fence asks fence_virtd to power plug off, on or to reboot it. fence_virtd
// answers "failure" both for an unknown domain and for a libvirt error;
// the error wraps stonith.ErrFailed then.
func (d *Device) Fence(ctx context.Context, plug string, action stonith.Action) (stonith.Result, error) {
	start := time.Now()
	res := stonith.Result{Action: action, Plug: plug}
	if err := stonith.CheckFenceAction(action); err != nil {
		return res, err
	}
	op := map[stonith.Action]Op{stonith.ActionOff: OpOff, stonith.ActionOn: OpOn, stonith.ActionReboot: OpReboot}[action]
	if d.Delay > 0 {
		select {
		case <-time.After(d.Delay):
		case <-ctx.Done():
			res.Duration = time.Since(start)
			return res, fmt.Errorf("fence_xvm %s %q: during the %v delay: %w", action, plug, d.Delay, ctx.Err())
		}
	}
	rep, err := d.do(ctx, op, plug)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("fence_xvm %s %q: %w", action, plug, err)
	}
	if err := d.codeError(rep.Code, op, plug); err != nil {
		return res, err
	}
	switch action {
	case stonith.ActionOff:
		res.State = stonith.PowerOff
	case stonith.ActionOn:
		res.State = stonith.PowerOn
	}
	// After reboot the state is unknown: fence_virtd leaves a domain that
	// was shut off as it was, and reports success even if the restart
	// failed.
	return res, nil
}

// Status reports whether plug is on. fence_virtd says "off" for an
// unknown domain too.
func (d *Device) Status(ctx context.Context, plug string) (stonith.PowerState, error) {
	rep, err := d.do(ctx, OpStatus, plug)
	if err != nil {
		return stonith.PowerUnknown, fmt.Errorf("fence_xvm status %q: %w", plug, err)
	}
	switch rep.Code {
	case CodeSuccess:
		return stonith.PowerOn, nil
	case CodeOff:
		return stonith.PowerOff, nil
	}
	return stonith.PowerUnknown, d.codeError(rep.Code, OpStatus, plug)
}

// List returns every domain fence_virtd's backend knows, with its state.
func (d *Device) List(ctx context.Context) ([]stonith.Target, error) {
	rep, err := d.c.Do(ctx, OpList, "", false)
	if err != nil {
		return nil, fmt.Errorf("fence_xvm list: %w", err)
	}
	if err := d.codeError(rep.Code, OpList, ""); err != nil {
		return nil, err
	}
	out := make([]stonith.Target, 0, len(rep.Hosts))
	for _, h := range rep.Hosts {
		st := stonith.PowerOff
		if h.State != 5 && h.State != 0 { // as fence_virtd's status: anything but shut off is on
			st = stonith.PowerOn
		}
		out = append(out, stonith.Target{Name: h.Name, UUID: h.UUID, State: st})
	}
	return out, nil
}

// Monitor checks that fence_virtd answers (its "devstatus" request).
func (d *Device) Monitor(ctx context.Context) error {
	rep, err := d.c.Do(ctx, OpMonitor, "", false)
	if err != nil {
		return fmt.Errorf("fence_xvm monitor: %w", err)
	}
	return d.codeError(rep.Code, OpMonitor, "")
}

func (d *Device) codeError(code byte, op Op, plug string) error {
	switch code {
	case CodeSuccess:
		return nil
	case CodeFail:
		return fmt.Errorf("%w: %s reported failure for %v %q (unknown domain, or a libvirt error: see the fence_virtd log on the host)",
			stonith.ErrFailed, d.c.destDesc, op, plug)
	case CodePermission:
		return fmt.Errorf("%w: %s refused %v %q for this client (the groups map in fence_virt.conf)",
			stonith.ErrPermission, d.c.destDesc, op, plug)
	case CodeOff:
		if op == OpStatus {
			return nil
		}
	}
	return fmt.Errorf("%w: %s sent result code %d for %v %q", stonith.ErrProtocol, d.c.destDesc, code, op, plug)
}
