package stonith

import (
	"context"
	"fmt"
	"time"
)

// Action is a fencing action, spelled as fence agents and Pacemaker spell it.
type Action string

// The actions a Device may be asked to perform.
const (
	ActionOff     Action = "off"
	ActionOn      Action = "on"
	ActionReboot  Action = "reboot"
	ActionStatus  Action = "status"
	ActionList    Action = "list"
	ActionMonitor Action = "monitor"
)

// ParseAction accepts the action names of the fence agent protocol,
// including the aliases "poweroff" and "poweron".
func ParseAction(s string) (Action, error) {
	switch s {
	case "off", "poweroff":
		return ActionOff, nil
	case "on", "poweron":
		return ActionOn, nil
	case "reboot":
		return ActionReboot, nil
	case "status":
		return ActionStatus, nil
	case "list":
		return ActionList, nil
	case "monitor":
		return ActionMonitor, nil
	}
	return "", fmt.Errorf("stonith: unknown action %q (want off, on, reboot, status, list or monitor)", s)
}

// PowerState is what a device reports about a target.
type PowerState int

// Power states. Unknown means the device gave no usable answer.
const (
	PowerUnknown PowerState = iota
	PowerOn
	PowerOff
)

func (p PowerState) String() string {
	switch p {
	case PowerOn:
		return "on"
	case PowerOff:
		return "off"
	}
	return "unknown"
}

// Result describes one completed device operation.
type Result struct {
	Action   Action
	Plug     string     // the device-level name the action was sent for
	State    PowerState // the target's state afterwards, if the device said
	Duration time.Duration
	// Output is free text from the device (an agent's stdout/stderr), kept
	// for the fence history; empty for the native protocols.
	Output string
}

// Target is one entry of a device's list.
type Target struct {
	Name  string     // the plug name the device accepts (domain name, port)
	UUID  string     // the domain UUID when the device knows one
	Alias string     // a second name some agents print (port,alias)
	State PowerState // PowerUnknown when the list carries no state
}

// Device is a fencing device. Implementations are safe for concurrent use,
// start no goroutines that outlive a call, and honour ctx cancellation and
// deadlines: a call returns promptly after ctx is done, with an error that
// wraps ctx.Err().
//
// plug is the device-level name of the target (a libvirt domain name or
// UUID, an outlet number): map cluster node names with Targeting.Plug first.
type Device interface {
	// Fence performs ActionOff, ActionOn or ActionReboot on plug. A nil
	// error means the device confirmed the action.
	Fence(ctx context.Context, plug string, action Action) (Result, error)
	// Status reports whether plug is powered on.
	Status(ctx context.Context, plug string) (PowerState, error)
	// List returns the targets the device knows about.
	List(ctx context.Context) ([]Target, error)
	// Monitor checks that the device itself is reachable and working.
	Monitor(ctx context.Context) error
}

// CheckFenceAction returns an error unless a is one of the actions
// Device.Fence accepts.
func CheckFenceAction(a Action) error {
	switch a {
	case ActionOff, ActionOn, ActionReboot:
		return nil
	}
	return fmt.Errorf("%w: %q is not a fencing action (want off, on or reboot)", ErrUnsupported, a)
}
