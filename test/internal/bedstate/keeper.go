package bedstate

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// StartKeeper is the "up" of the bed commands (test/bed/cmd/bed,
// test/clusterbed/cmd/clusterbed): it runs this program again as
// `PROGRAM keep ARGS...`, in a session of its own so that it outlives the
// command and the terminal, with its output in logPath. The keeper builds
// the bed and holds it: it is the owner the state file records. StartKeeper
// waits until ready(keeper's PID) reports the bed up. If the keeper exits
// first, the error holds its log; if limit passes first, it asks the
// keeper to tear the bed down. It returns how long the bed took.
func StartKeeper(args []string, logPath string, limit time.Duration, ready func(keeper int) bool) (time.Duration, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	keeper := exec.Command("/proc/self/exe", append([]string{"keep"}, args...)...)
	keeper.Stdout, keeper.Stderr = logf, logf
	keeper.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := keeper.Start(); err != nil {
		return 0, fmt.Errorf("start keeper: %w", err)
	}
	pid := keeper.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- keeper.Wait() }()
	t0 := time.Now()
	for {
		if ready(pid) {
			return time.Since(t0), nil
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			return 0, fmt.Errorf("keeper exited (%v) before the bed was ready:\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(t0) > limit {
			_ = keeper.Process.Signal(syscall.SIGTERM)
			return 0, fmt.Errorf("bed not ready after %d minutes; asked the keeper to tear it down", int(limit.Minutes()))
		}
	}
}
