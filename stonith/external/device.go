package external

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"pacer/stonith"
)

// Device is a stonith.Device backed by a fence agent executable.
type Device struct {
	agent   Agent
	hostArg string
	name    string
}

var _ stonith.Device = (*Device)(nil)

// NewDevice returns a Device running the agent at path with params (the
// stonith resource's parameters). The host argument — the parameter that
// carries the plug — is pcmk_host_argument if set ("none" for none), else
// meta's choice ("plug" or "port"), else "port". meta may be nil.
func NewDevice(path string, params map[string]string, meta *Meta) *Device {
	hostArg := "port"
	if meta != nil {
		hostArg = meta.HostArgument()
	}
	if v, ok := params["pcmk_host_argument"]; ok {
		hostArg = v
	}
	p := make(map[string]string, len(params))
	for k, v := range params {
		p[k] = v
	}
	return &Device{agent: Agent{Path: path, Params: p}, hostArg: hostArg, name: filepath.Base(path)}
}

// Agent returns the agent the device runs.
func (d *Device) Agent() *Agent { return &d.agent }

func (d *Device) run(ctx context.Context, action, plug string) (Output, error) {
	return d.agent.Run(ctx, action, d.hostArg, plug)
}

// Fence runs the agent with action off, on or reboot for plug; exit status
// 0 is success.
func (d *Device) Fence(ctx context.Context, plug string, action stonith.Action) (stonith.Result, error) {
	res := stonith.Result{Action: action, Plug: plug}
	if err := stonith.CheckFenceAction(action); err != nil {
		return res, err
	}
	out, err := d.run(ctx, string(action), plug)
	res.Duration, res.Output = out.Duration, joinOutput(out)
	if err != nil {
		return res, err
	}
	if out.ExitCode != 0 {
		return res, fmt.Errorf("%w: %s %s %q exited %d: %s", stonith.ErrFailed, d.name, action, plug, out.ExitCode, out.Tail())
	}
	res.State = stonith.PowerOn
	if action == stonith.ActionOff {
		res.State = stonith.PowerOff
	}
	return res, nil
}

// Status maps the agent's exit status: 0 on, 2 off, anything else an
// error.
func (d *Device) Status(ctx context.Context, plug string) (stonith.PowerState, error) {
	out, err := d.run(ctx, "status", plug)
	if err != nil {
		return stonith.PowerUnknown, err
	}
	switch out.ExitCode {
	case 0:
		return stonith.PowerOn, nil
	case 2:
		return stonith.PowerOff, nil
	}
	return stonith.PowerUnknown, fmt.Errorf("%w: %s status %q exited %d: %s", stonith.ErrFailed, d.name, plug, out.ExitCode, out.Tail())
}

// List runs action=list. Agents print one target per line as
// "plug,alias" (fence-agents) or "name uuid state" (fence_xvm); the first
// field is the plug.
func (d *Device) List(ctx context.Context) ([]stonith.Target, error) {
	out, err := d.run(ctx, "list", "")
	if err != nil {
		return nil, err
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("%w: %s list exited %d: %s", stonith.ErrFailed, d.name, out.ExitCode, out.Tail())
	}
	return ParseList(out.Stdout), nil
}

// ParseList parses an agent's list output (see Device.List).
func ParseList(s string) []stonith.Target {
	var out []stonith.Target
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "invalid") || strings.Contains(line, "variable") {
			continue
		}
		var t stonith.Target
		if name, alias, ok := strings.Cut(line, ","); ok {
			t.Name, t.Alias = strings.TrimSpace(name), strings.TrimSpace(alias)
		} else {
			f := strings.Fields(line)
			t.Name = f[0]
			if len(f) >= 2 {
				t.UUID = f[1]
			}
			if len(f) >= 3 {
				switch strings.ToLower(f[2]) {
				case "on":
					t.State = stonith.PowerOn
				case "off":
					t.State = stonith.PowerOff
				}
			}
		}
		if t.Name != "" {
			out = append(out, t)
		}
	}
	return out
}

// Monitor runs action=monitor.
func (d *Device) Monitor(ctx context.Context) error {
	out, err := d.run(ctx, "monitor", "")
	if err != nil {
		return err
	}
	if out.ExitCode != 0 {
		return fmt.Errorf("%w: %s monitor exited %d: %s", stonith.ErrFailed, d.name, out.ExitCode, out.Tail())
	}
	return nil
}

func joinOutput(o Output) string {
	s := strings.TrimSpace(o.Stdout)
	if e := strings.TrimSpace(o.Stderr); e != "" {
		if s != "" {
			s += "\n"
		}
		s += e
	}
	return s
}
