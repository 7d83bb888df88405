package agents

import (
	"context"
	"time"

	"pacer/crm/cib"
)

// Standard action names, as Pacemaker and the OCF standard spell them.
const (
	ActionStart       = "start"
	ActionStop        = "stop"
	ActionMonitor     = "monitor"
	ActionValidate    = "validate-all"
	ActionMetaData    = "meta-data"
	ActionPromote     = "promote"
	ActionDemote      = "demote"
	ActionNotify      = "notify"
	ActionReload      = "reload"
	ActionReloadAgent = "reload-agent"
	ActionMigrateTo   = "migrate_to"
	ActionMigrateFrom = "migrate_from"
)

// Request is everything an agent needs for one operation on one resource.
// It is built by the executor from the CIB primitive and the op definition.
type Request struct {
	// Resource is the resource id (OCF_RESOURCE_INSTANCE). For clone
	// instances it is "id:N", as in Pacemaker.
	Resource string
	// Params are the instance attributes of the resource, merged with the
	// op's own instance attributes (e.g. OCF_CHECK_LEVEL for a monitor).
	Params map[string]string
	// Meta are the meta attributes passed to the agent, without the
	// CRM_meta_ prefix and with Pacemaker's spelling ("clone-max" or
	// "clone_max"; dashes are turned into underscores for the
	// environment). Interval, Timeout, Name and Node below override the
	// matching entries.
	Meta map[string]string
	// Interval is the recurring interval of a monitor; 0 for a one-shot
	// operation. A monitor with Interval 0 is a probe.
	Interval time.Duration
	// Timeout is the operation timeout. The agent stops waiting (and kills
	// what it started) when it expires or when the context is done,
	// whichever comes first. 0 means: only the context bounds it, or the
	// agent's default timeout when the context has no deadline either.
	Timeout time.Duration
	// Node is the name of the node the operation runs on (CRM_meta_on_node).
	Node string
}

// Agent is one resource agent type (for example ocf:heartbeat:IPaddr2 or
// systemd:haproxy). Implementations are safe for concurrent use; the
// executor serialises operations per resource, not per agent.
//
// Start must be idempotent (starting a running resource succeeds) and Stop
// of a resource that is not running must succeed: Pacemaker relies on both.
// Monitor returns OK (0) when the resource runs, NotRunning (7) when it
// cleanly does not, and a failure code otherwise.
type Agent interface {
	// Name is the full agent name this implementation serves.
	Name() cib.AgentName
	// MetaData describes parameters and advised action timeouts.
	MetaData(ctx context.Context) (*MetaData, error)
	Validate(ctx context.Context, req Request) Result
	Start(ctx context.Context, req Request) Result
	Stop(ctx context.Context, req Request) Result
	Monitor(ctx context.Context, req Request) Result
}

// Actioner is implemented by agents that can run further actions by name
// (promote, demote, notify, reload, migrate_to, ...). OCF scripts can.
// Agents return Unimplemented (3) for actions they do not support.
type Actioner interface {
	Run(ctx context.Context, action string, req Request) Result
}

// Watcher is implemented by agents that can observe their resource and
// push a change the moment it happens.
//
// Watch starts observing the resource described by req and returns a
// channel of events. Events report changes: the caller watches a resource
// it believes to be running, so a resource found not running when the
// watch is in place is reported at once, and one that runs is not
// reported until it changes. The channel is closed when ctx is done or when
// the agent can no longer observe (for example the D-Bus connection to
// systemd was lost); the caller then falls back to its recurring monitor
// and may call Watch again. Events are hints: the executor should record
// the failure and may confirm it with Monitor. Changes the agent itself
// causes through Start and Stop are not reported.
type Watcher interface {
	Watch(ctx context.Context, req Request) (<-chan Event, error)
}

// Event is one observed change of a watched resource.
type Event struct {
	Resource string
	// Code is what a monitor would return now: NotRunning or an error for
	// a failure, OK when the resource is back.
	Code Code
	// Reason says what was seen, e.g. "address 10.0.0.5/24 removed from
	// eth0" or "haproxy.service: ActiveState=failed SubState=failed
	// Result=signal".
	Reason string
	// At is when the agent observed the change (its clock).
	At time.Time
}

// Clock is the time source agents use for durations and event stamps.
// Tests pass a fake; production passes SystemClock{}.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// OpContext derives the context an operation runs under: ctx bounded by
// req.Timeout, or by def when neither ctx nor req sets a deadline. It
// returns the effective timeout too (for CRM_meta_timeout).
func OpContext(ctx context.Context, req Request, def time.Duration) (context.Context, context.CancelFunc, time.Duration) {
	timeout := req.Timeout
	if timeout <= 0 {
		if dl, ok := ctx.Deadline(); ok {
			return ctx, func() {}, time.Until(dl)
		}
		timeout = def
	}
	c, cancel := context.WithTimeout(ctx, timeout)
	return c, cancel, timeout
}
