// Package external runs installed fence agents (fence_* from
// fence-agents, fence_xvm from fence-virt, ...) through the standard fence
// agent protocol: parameters as key=value lines on stdin, the action in
// "action=", the result in the exit status (status: 0 on, 2 off, 1 error).
// It also reads an agent's meta-data XML, for `pcsctl stonith describe`.
//
// Each run is its own process group; a run whose context ends is killed
// with its whole group (agents fork ssh, snmp or ipmitool children).
package external

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"pacer/stonith"
)

// DefaultDirs returns the directories Find and List search when given
// none, in order.
func DefaultDirs() []string { return []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} }

var agentName = regexp.MustCompile(`^fence_[A-Za-z0-9_-]+$`)

// Find returns the path of the agent called name (e.g. "fence_ipmilan") in
// dirs (default DefaultDirs).
func Find(name string, dirs ...string) (string, error) {
	if !agentName.MatchString(name) {
		return "", fmt.Errorf("external: %q is not a fence agent name (fence_...)", name)
	}
	if len(dirs) == 0 {
		dirs = DefaultDirs()
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: fence agent %s not found in %s (is its package, e.g. fence-agents, installed?)",
		stonith.ErrUnsupported, name, strings.Join(dirs, ", "))
}

// List returns the names of the agents installed in dirs (default
// DefaultDirs), sorted, without duplicates.
func List(dirs ...string) []string {
	if len(dirs) == 0 {
		dirs = DefaultDirs()
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			n := e.Name()
			if !agentName.MatchString(n) || seen[n] {
				continue
			}
			if st, err := os.Stat(filepath.Join(d, n)); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Output is what one agent run produced.
type Output struct {
	Stdout, Stderr string
	ExitCode       int // -1 when the process was killed
	Duration       time.Duration
}

// Tail returns the last non-empty line of stderr (or stdout), for error
// messages.
func (o Output) Tail() string {
	for _, s := range []string{o.Stderr, o.Stdout} {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
			return l
		}
	}
	return ""
}

// maxOutput bounds what is kept of an agent's stdout/stderr.
const maxOutput = 1 << 20

// Agent is one fence agent executable with its device parameters.
type Agent struct {
	Path string
	// Params are sent on stdin as key=value lines (sorted by key).
	// Pacemaker's own parameters (pcmk_*) are left out, as are action and
	// the host argument, which Run sets.
	Params map[string]string
	// KillGrace is how long a killed agent's pipes may stay open (held by
	// a child that escaped the group) before Run returns anyway.
	KillGrace time.Duration
}

// Run runs the agent with action, passing plug (if not empty) as
// hostArg=plug ("port" or "plug", see Meta.HostArgument). A non-zero exit
// status is not an error here (status uses 2 for "off"); errors are for
// runs that did not complete: the agent could not start, or ctx ended and
// its process group was killed.
func (a *Agent) Run(ctx context.Context, action, hostArg, plug string) (Output, error) {
	stdin, err := a.stdin(action, hostArg, plug)
	if err != nil {
		return Output{}, err
	}
	cmd := exec.CommandContext(ctx, a.Path)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The whole group: agents run ssh/ipmitool/snmp children.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = a.KillGrace
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = 2 * time.Second
	}
	start := time.Now()
	err = cmd.Run()
	out := Output{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start), ExitCode: -1}
	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
	}
	name := filepath.Base(a.Path)
	if ctx.Err() != nil {
		return out, fmt.Errorf("%w: %s %s %s killed (with its process group) after %v: %w",
			stonith.ErrNoAnswer, name, action, plug, out.Duration.Round(time.Millisecond), ctx.Err())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return out, fmt.Errorf("external: running %s: %w", a.Path, err)
	}
	return out, nil
}

func (a *Agent) stdin(action, hostArg, plug string) (string, error) {
	var b strings.Builder
	write := func(k, v string) error {
		if strings.ContainsAny(k, "=\n\x00") || k == "" || strings.ContainsAny(v, "\n\x00") {
			return fmt.Errorf("external: parameter %q=%q cannot be passed on stdin (newline, NUL or '=' in the name)", k, v)
		}
		b.WriteString(k + "=" + v + "\n")
		return nil
	}
	if err := write("action", action); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(a.Params))
	for k := range a.Params {
		if strings.HasPrefix(k, "pcmk_") || k == "action" || k == hostArg {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := write(k, a.Params[k]); err != nil {
			return "", err
		}
	}
	if plug != "" && hostArg != "" && hostArg != "none" {
		if err := write(hostArg, plug); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// limitedBuffer keeps the first maxOutput bytes and discards the rest.
type limitedBuffer struct{ bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
