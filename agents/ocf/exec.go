package ocf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"pacer/agents"
)

// execute runs argv with env in a new process group and waits for it, for
// at most as long as ctx lives. At the deadline the whole process group is
// SIGKILLed, as Pacemaker does for a timed-out action (a script's children,
// such as a hung `sleep` or a stuck mount, die with it).
func (r *Runner) execute(ctx context.Context, argv, env []string, timeout time.Duration, limit int) agents.Result {
	stdout := newTail(limit, false)
	stderr := newTail(limit, true)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// After the script exits, children it left running in the background
	// may hold stdout/stderr open; do not wait for them beyond PipeWait.
	cmd.WaitDelay = r.opts.PipeWait

	start := r.opts.Clock.Now()
	finish := func(res agents.Result) agents.Result {
		res.Duration = r.opts.Clock.Now().Sub(start)
		res.Output = stdout.String()
		res.Stderr = stderr.String()
		if reason := stderr.Reason(); reason != "" && res.Reason == "" {
			res.Reason = reason
		}
		return res
	}
	if err := cmd.Start(); err != nil {
		return finish(execError(argv[0], err))
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// Kill the group, then wait: Wait returns once the script is
		// reaped (and the pipes closed or PipeWait passed).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
		res, _ := agents.FromContext(ctx.Err(), timeout, fmt.Sprintf("%s %s", filepath.Base(argv[len(argv)-2]), argv[len(argv)-1]))
		return finish(res)
	}
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		return finish(agents.Result{Code: agents.OK, Status: agents.StatusDone})
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return finish(agents.Failed(agents.ErrGeneric, fmt.Errorf("wait for %s: %w", argv[0], err)))
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		// Pacemaker: PCMK_OCF_SIGNAL with an error status.
		return finish(agents.Result{Code: agents.ErrGeneric, Status: agents.StatusError,
			Reason: fmt.Sprintf("agent terminated by signal %s", ws.Signal())})
	}
	return finish(agents.Result{Code: agents.Normalize(exit.ExitCode()), Status: agents.StatusDone})
}

// execError maps a failed exec like Pacemaker's services_handle_exec_error.
func execError(path string, err error) agents.Result {
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EINVAL):
		return agents.Result{Code: agents.ErrNotInstalled, Status: agents.StatusNotInstalled,
			Reason: fmt.Sprintf("cannot execute %s: %v", path, err)}
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EPERM):
		return agents.Failed(agents.ErrPerm, fmt.Errorf("cannot execute %s: %w", path, err))
	default:
		return agents.Failed(agents.ErrGeneric, fmt.Errorf("cannot execute %s: %w", path, err))
	}
}
