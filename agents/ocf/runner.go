// Package ocf runs real OCF resource agent scripts (Debian's
// resource-agents, /usr/lib/ocf/resource.d/PROVIDER/TYPE) exactly as
// Pacemaker's executor does: the same environment (OCF_ROOT,
// OCF_RESOURCE_INSTANCE, OCF_RESKEY_* and OCF_RESKEY_CRM_meta_*), the
// script in its own process group that is SIGKILLed as a whole at the
// timeout, stdout and stderr captured, and the exit reason taken from the
// ocf-exit-reason: line of stderr. It also parses the agents' meta-data
// XML.
//
// It does not retry, schedule recurring monitors or interpret results:
// that is the executor's job (resources/).
package ocf

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
)

// Defaults, as Pacemaker uses them.
const (
	DefaultRoot       = "/usr/lib/ocf"
	DefaultPath       = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	DefaultFeatureSet = "3.16.2" // Pacemaker 2.1.5 (Debian 12); some agents compare it
	// DefaultTimeout bounds an operation whose Request and context give no
	// timeout (Pacemaker's default op timeout is 20s).
	DefaultTimeout = 20 * time.Second
	// MetaDataTimeout bounds the meta-data action (Pacemaker: 30s).
	MetaDataTimeout = 30 * time.Second
	// DefaultOutputLimit is how much of stdout and of stderr is kept.
	DefaultOutputLimit = 4096
	// DefaultPipeWait is how long the runner waits, after the script has
	// exited, for children it left in the background (IPaddr2's send_arp)
	// to close stdout/stderr. Pacemaker does not wait for them at all.
	DefaultPipeWait = 20 * time.Millisecond
)

// Options configure a Runner. The zero value runs the system's agents.
type Options struct {
	Root       string   // OCF_ROOT; DefaultRoot when empty
	Path       string   // PATH of the scripts; DefaultPath when empty
	Env        []string // extra KEY=VALUE for every script (HA_LOGFACILITY, ...)
	FeatureSet string   // OCF_RESKEY_crm_feature_set; DefaultFeatureSet when empty
	// Wrapper is put in front of the script's command line, e.g.
	// {"nsenter", "--net=/run/netns/n1", "--"} to run it in another
	// network namespace. The wrapper must exec the script in the same
	// process (nsenter without -p/-F does), so that killing the process
	// group reaches the script.
	Wrapper        []string
	DefaultTimeout time.Duration
	OutputLimit    int
	PipeWait       time.Duration
	Logger         *slog.Logger
	Clock          agents.Clock
}

// Runner runs OCF scripts below one OCF_ROOT. It implements
// agents.ScriptBackend.
type Runner struct {
	opts Options

	mu   sync.Mutex
	meta map[string]*agents.MetaData // cached meta-data by provider/type
}

// NewRunner returns a Runner; zero fields of opts take the defaults.
func NewRunner(opts Options) *Runner {
	if opts.Root == "" {
		opts.Root = DefaultRoot
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.FeatureSet == "" {
		opts.FeatureSet = DefaultFeatureSet
	}
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = DefaultTimeout
	}
	if opts.OutputLimit <= 0 {
		opts.OutputLimit = DefaultOutputLimit
	}
	if opts.PipeWait <= 0 {
		opts.PipeWait = DefaultPipeWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = agents.SystemClock{}
	}
	return &Runner{opts: opts, meta: map[string]*agents.MetaData{}}
}

// Root returns the OCF_ROOT the runner uses.
func (r *Runner) Root() string { return r.opts.Root }

// Agent returns the agent for ocf:provider:typ. The script need not exist.
func (r *Runner) Agent(provider, typ string) agents.Agent {
	return &Agent{r: r, provider: provider, typ: typ}
}

// ScriptPath returns where the script of provider/typ lives, or an error
// for names that could escape resource.d.
func (r *Runner) ScriptPath(provider, typ string) (string, error) {
	for _, part := range []string{provider, typ} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\x00") {
			return "", fmt.Errorf("invalid OCF agent name ocf:%s:%s", provider, typ)
		}
	}
	return filepath.Join(r.opts.Root, "resource.d", provider, typ), nil
}

// Installed reports whether ocf:provider:typ exists and is executable.
func (r *Runner) Installed(provider, typ string) bool {
	p, err := r.ScriptPath(provider, typ)
	if err != nil {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// List lists installed agents of provider, or of every provider when
// provider is empty, as Pacemaker does: executable regular files not
// starting with '.'.
func (r *Runner) List(provider string) ([]cib.AgentName, error) {
	base := filepath.Join(r.opts.Root, "resource.d")
	var providers []string
	if provider != "" {
		providers = []string{provider}
	} else {
		ents, err := os.ReadDir(base)
		if err != nil {
			return nil, fmt.Errorf("list OCF providers in %s: %w", base, err)
		}
		for _, e := range ents {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				providers = append(providers, e.Name())
			}
		}
	}
	var out []cib.AgentName
	for _, p := range providers {
		ents, err := os.ReadDir(filepath.Join(base, p))
		if err != nil {
			return nil, fmt.Errorf("list OCF agents of provider %s: %w", p, err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") || !r.Installed(p, e.Name()) {
				continue
			}
			out = append(out, cib.AgentName{Class: "ocf", Provider: p, Type: e.Name()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Agent is one OCF script. It implements agents.Agent and agents.Actioner.
type Agent struct {
	r        *Runner
	provider string
	typ      string
}

// Name returns ocf:provider:type.
func (a *Agent) Name() cib.AgentName {
	return cib.AgentName{Class: "ocf", Provider: a.provider, Type: a.typ}
}

// Validate runs validate-all.
func (a *Agent) Validate(ctx context.Context, req agents.Request) agents.Result {
	return a.Run(ctx, agents.ActionValidate, req)
}

// Start runs start.
func (a *Agent) Start(ctx context.Context, req agents.Request) agents.Result {
	return a.Run(ctx, agents.ActionStart, req)
}

// Stop runs stop.
func (a *Agent) Stop(ctx context.Context, req agents.Request) agents.Result {
	return a.Run(ctx, agents.ActionStop, req)
}

// Monitor runs monitor (a probe when req.Interval is 0).
func (a *Agent) Monitor(ctx context.Context, req agents.Request) agents.Result {
	return a.Run(ctx, agents.ActionMonitor, req)
}

// MetaData runs the meta-data action once and caches the parsed result.
func (a *Agent) MetaData(ctx context.Context) (*agents.MetaData, error) {
	key := a.provider + "/" + a.typ
	a.r.mu.Lock()
	md := a.r.meta[key]
	a.r.mu.Unlock()
	if md != nil {
		return md, nil
	}
	res := a.run(ctx, agents.ActionMetaData, agents.Request{Resource: a.typ, Timeout: MetaDataTimeout}, maxMetaData+1)
	if !res.Succeeded() {
		return nil, fmt.Errorf("%s meta-data: %s", a.Name(), res)
	}
	md, err := ParseMetaData([]byte(res.Output))
	if err != nil {
		return nil, fmt.Errorf("%s meta-data: %w", a.Name(), err)
	}
	if md.Name == "" {
		md.Name = a.typ
	}
	a.r.mu.Lock()
	a.r.meta[key] = md
	a.r.mu.Unlock()
	return md, nil
}

// Run runs any action of the script: start, stop, monitor, promote,
// notify, reload, meta-data, ... The context and req.Timeout bound it.
func (a *Agent) Run(ctx context.Context, action string, req agents.Request) agents.Result {
	return a.run(ctx, action, req, a.r.opts.OutputLimit)
}

// run runs action keeping up to limit bytes of stdout and of stderr.
func (a *Agent) run(ctx context.Context, action string, req agents.Request, limit int) agents.Result {
	path, err := a.r.ScriptPath(a.provider, a.typ)
	if err != nil {
		return agents.Result{Code: agents.ErrNotInstalled, Status: agents.StatusNotInstalled, Reason: err.Error()}
	}
	if !a.r.Installed(a.provider, a.typ) {
		return agents.Result{Code: agents.ErrNotInstalled, Status: agents.StatusNotInstalled,
			Reason: fmt.Sprintf("agent %s is not installed (no executable %s)", a.Name(), path)}
	}
	ctx, cancel, timeout := agents.OpContext(ctx, req, a.r.opts.DefaultTimeout)
	defer cancel()
	env, err := a.env(action, req, timeout)
	if err != nil {
		return agents.Done(agents.ErrArgs, "%v", err)
	}
	argv := append(append([]string{}, a.r.opts.Wrapper...), path, action)
	res := a.r.execute(ctx, argv, env, timeout, limit)
	lvl := slog.LevelDebug
	if !res.Succeeded() && !(action == agents.ActionMonitor && res.Code == agents.NotRunning && res.Status == agents.StatusDone) {
		lvl = slog.LevelInfo
	}
	a.r.opts.Logger.LogAttrs(ctx, lvl, "ocf action",
		slog.String("agent", a.Name().String()), slog.String("resource", req.Resource),
		slog.String("action", action), slog.Int("rc", int(res.Code)),
		slog.String("status", res.Status.String()), slog.Duration("took", res.Duration),
		slog.String("reason", res.Reason))
	return res
}

// env builds the environment the way Pacemaker's executor does (see
// add_action_env_vars in lib/services/services_linux.c): the daemon's
// base environment, OCF_RESKEY_<param> for every parameter (the meta
// attributes arrive as CRM_meta_<name> parameters), then the fixed OCF_*
// variables.
func (a *Agent) env(action string, req agents.Request, timeout time.Duration) ([]string, error) {
	params := map[string]string{}
	for k, v := range req.Params {
		params[k] = v
	}
	for k, v := range req.Meta {
		params["CRM_meta_"+metaKey(k)] = v
	}
	if action != agents.ActionMetaData {
		params["CRM_meta_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
		params["CRM_meta_interval"] = strconv.FormatInt(req.Interval.Milliseconds(), 10)
		params["CRM_meta_name"] = action
		if req.Node != "" {
			params["CRM_meta_on_node"] = req.Node
		}
		params["crm_feature_set"] = a.r.opts.FeatureSet
	}
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("parameter %q cannot be passed in the environment (empty name, '=' or NUL byte)", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := []string{"PATH=" + a.r.opts.Path}
	env = append(env, a.r.opts.Env...)
	for _, k := range keys {
		env = append(env, "OCF_RESKEY_"+k+"="+params[k])
	}
	instance := req.Resource
	if instance == "" {
		instance = a.typ
	}
	env = append(env,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_ROOT="+a.r.opts.Root,
		"OCF_EXIT_REASON_PREFIX="+ExitReasonPrefix,
		"OCF_RESOURCE_INSTANCE="+instance,
		"OCF_RESOURCE_TYPE="+a.typ,
		"OCF_RESOURCE_PROVIDER="+a.provider,
	)
	return env, nil
}

// metaKey turns a meta attribute name into its environment spelling, as
// Pacemaker's crm_meta_name does ("clone-max" -> "clone_max").
func metaKey(k string) string {
	return strings.ReplaceAll(strings.TrimPrefix(k, "CRM_meta_"), "-", "_")
}
