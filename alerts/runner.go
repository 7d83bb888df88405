package alerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"pacer/crm/cib"
)

// Config is the runner's setup. Zero fields take the documented defaults.
type Config struct {
	// Version is CRM_alert_version: the pacer release sending the alert.
	Version string
	// Clock is the time source for CRM_alert_timestamp. Default time.Now.
	Clock func() time.Time
	// Logger receives one line per failed agent, with its exit code and
	// the end of what it wrote to stderr.
	Logger *slog.Logger
	// MaxRunning bounds the agents running at once; the others wait
	// their turn. Default 32.
	MaxRunning int
	// Finished, when set, is told how every run ended (metrics). It is
	// called from the run's goroutine.
	Finished func(Result)
}

// Event is one cluster event. Which fields an agent sees depends on Kind,
// as in Pacemaker.
type Event struct {
	// Kind is cib.AlertKindNode, ...Fencing, ...Resource or ...Attribute.
	Kind string
	// Node is the node the event is about (the fencing target for
	// fencing events, the node that ran the operation for resource ones).
	Node string
	// NodeID is the node's id (node and attribute events).
	NodeID string
	// Desc: "member" or "lost" for node events, a summary for fencing,
	// the result in words for resource events.
	Desc string
	// Task is the resource operation (start, monitor, ...) or the fencing
	// notification (st_notify_fence).
	Task string
	// RC is the operation's or the fencing's result code.
	RC int
	// Resource events only.
	Resource   string
	IntervalMS int64
	TargetRC   int
	Status     int // Pacemaker's execution status: 0 done, 2 timed out, ...
	ExecTimeMS int64
	// Attribute events only.
	AttrName, AttrValue string
}

// env lists the event's own variables, without the CRM_alert_ prefix.
func (e Event) env() [][2]string {
	itoa := strconv.Itoa
	kv := [][2]string{{"kind", e.Kind}, {"node", e.Node}}
	switch e.Kind {
	case cib.AlertKindNode:
		kv = append(kv, [2]string{"nodeid", e.NodeID}, [2]string{"desc", e.Desc})
	case cib.AlertKindFencing:
		kv = append(kv, [2]string{"task", e.Task}, [2]string{"desc", e.Desc}, [2]string{"rc", itoa(e.RC)})
	case cib.AlertKindResource:
		kv = append(kv,
			[2]string{"rsc", e.Resource},
			[2]string{"task", e.Task},
			[2]string{"interval", strconv.FormatInt(e.IntervalMS, 10)},
			[2]string{"target_rc", itoa(e.TargetRC)},
			[2]string{"status", itoa(e.Status)},
			[2]string{"rc", itoa(e.RC)},
			[2]string{"exec_time", strconv.FormatInt(e.ExecTimeMS, 10)},
			[2]string{"desc", e.Desc},
		)
	case cib.AlertKindAttribute:
		kv = append(kv, [2]string{"nodeid", e.NodeID}, [2]string{"attribute_name", e.AttrName}, [2]string{"attribute_value", e.AttrValue})
	}
	return kv
}

// Result is how one agent run ended.
type Result struct {
	Alert     string
	Recipient string
	Kind      string
	Sequence  uint64
	// ExitCode is the agent's exit status; -1 when it did not exit by
	// itself (killed, or never started).
	ExitCode int
	TimedOut bool
	// Err is nil for an agent that exited 0.
	Err      error
	Duration time.Duration
	// Stderr is the end of what the agent wrote to stderr.
	Stderr string
}

// Runner runs alert agents. Its methods are safe for concurrent use.
type Runner struct {
	cfg Config
	log *slog.Logger
	seq atomic.Uint64
	sem chan struct{}
	wg  sync.WaitGroup
}

// New returns a runner.
func New(cfg Config) *Runner {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = 32
	}
	return &Runner{cfg: cfg, log: cfg.Logger, sem: make(chan struct{}, cfg.MaxRunning)}
}

// Send starts the agents of every alert that wants the event, once per
// enabled recipient (once without a recipient when an alert has none),
// and returns at once. The timestamp is taken now, before any agent
// starts, so it says when the event happened even if an agent waits.
func (r *Runner) Send(list []cib.Alert, ev Event) {
	now := r.cfg.Clock()
	for i := range list {
		a := &list[i]
		if !a.Wants(ev.Kind, ev.AttrName) {
			continue
		}
		if len(a.Recipients) == 0 {
			r.start(a, nil, ev, now)
			continue
		}
		for j := range a.Recipients {
			rcp := &a.Recipients[j]
			if v, ok := rcp.Meta["enabled"]; ok && !cib.IsTrue(v) {
				continue
			}
			r.start(a, rcp, ev, now)
		}
	}
}

// Wait blocks until every agent started so far has ended.
func (r *Runner) Wait() { r.wg.Wait() }

// job is one agent run, fully resolved.
type job struct {
	alert, recipient, path, kind string
	seq                          uint64
	env                          []string
	timeout                      time.Duration
}

func (r *Runner) start(a *cib.Alert, rcp *cib.AlertRecipient, ev Event, now time.Time) {
	meta := map[string]string{}
	opts := map[string]string{}
	for k, v := range a.Meta {
		meta[k] = v
	}
	for k, v := range a.Options {
		opts[k] = v
	}
	value := ""
	if rcp != nil {
		value = rcp.Value
		for k, v := range rcp.Meta {
			meta[k] = v
		}
		for k, v := range rcp.Options {
			opts[k] = v
		}
	}
	timeout := cib.DefaultAlertTimeout
	if s := meta["timeout"]; s != "" {
		if d, err := cib.ParseDuration(s); err == nil && d > 0 {
			timeout = d
		}
	}
	format := meta["timestamp-format"]
	if format == "" {
		format = cib.DefaultAlertTimestampFormat
	}
	j := job{alert: a.ID, recipient: value, path: a.Path, kind: ev.Kind, seq: r.seq.Add(1), timeout: timeout}
	vars := append(ev.env(),
		[2]string{"version", r.cfg.Version},
		[2]string{"recipient", value},
		[2]string{"node_sequence", strconv.FormatUint(j.seq, 10)},
		[2]string{"timestamp", FormatTimestamp(format, now)},
		[2]string{"timestamp_epoch", strconv.FormatInt(now.Unix(), 10)},
		[2]string{"timestamp_usec", zeroPad(now.Nanosecond()/1000, 6)},
	)
	j.env = environ(opts, vars)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.sem <- struct{}{}
		defer func() { <-r.sem }()
		res := r.run(j)
		r.report(j, res)
		if r.cfg.Finished != nil {
			r.cfg.Finished(res)
		}
	}()
}

// environ is pacerd's environment without any CRM_ variables of its own,
// then the alert's options, then the event's variables under both
// prefixes: ClusterMon's external scripts read CRM_notify_*, and alert
// agents written for them still work.
func environ(opts map[string]string, vars [][2]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CRM_") {
			env = append(env, kv)
		}
	}
	for k, v := range opts {
		env = append(env, k+"="+v)
	}
	for _, kv := range vars {
		env = append(env, "CRM_alert_"+kv[0]+"="+kv[1], "CRM_notify_"+kv[0]+"="+kv[1])
	}
	return env
}

// stderrKeep is how much of an agent's stderr a failure log shows.
const stderrKeep = 512

func (r *Runner) run(j job) Result {
	res := Result{Alert: j.alert, Recipient: j.recipient, Kind: j.kind, Sequence: j.seq, ExitCode: -1}
	r.log.Debug("sending alert", "alert", j.alert, "kind", j.kind, "recipient", j.recipient, "sequence", j.seq)
	// stderr goes to an unlinked file rather than a pipe: Wait then
	// returns when the agent exits, even if it left a background child
	// holding the descriptor.
	errf, err := os.CreateTemp("", "pacer-alert-")
	if err != nil {
		res.Err = fmt.Errorf("stderr file: %w", err)
		return res
	}
	os.Remove(errf.Name())
	defer errf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), j.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, j.path)
	cmd.Dir = "/"
	cmd.Env = j.env
	cmd.Stderr = errf
	// Its own process group, so a timeout kills whatever the agent
	// started too (a mail client, curl), not only the script.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	started := time.Now()
	err = cmd.Run()
	res.Duration = time.Since(started)
	res.Stderr = fileTail(errf, stderrKeep)
	if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.TimedOut = true
		res.Err = fmt.Errorf("timed out after %v: killed it and its process group (raise meta timeout= if it needs longer)", j.timeout)
	default:
		res.Err = err
	}
	return res
}

func (r *Runner) report(j job, res Result) {
	if res.Err == nil {
		r.log.Debug("alert agent done", "alert", j.alert, "kind", j.kind, "recipient", j.recipient, "sequence", j.seq, "ms", res.Duration.Milliseconds())
		return
	}
	r.log.Warn("alert agent failed", "alert", j.alert, "path", j.path, "kind", j.kind, "recipient", j.recipient,
		"exit", res.ExitCode, "err", res.Err.Error(), "stderr", res.Stderr)
}

// fileTail returns the last n bytes of f, trimmed, on one line.
func fileTail(f *os.File, n int64) string {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		return ""
	}
	off := max(size-n, 0)
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	s := strings.TrimSpace(string(buf))
	return strings.ReplaceAll(s, "\n", " | ")
}
