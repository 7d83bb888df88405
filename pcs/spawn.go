package pcs

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"pacer/daemon"
)

var lookPath = exec.LookPath

// startDaemon starts pacerd detached from this terminal, its log in the
// data directory, and waits until its socket answers.
func startDaemon(config string) (int, string, error) {
	cfg, err := daemon.LoadConfig(config)
	if err != nil {
		return 0, "", err
	}
	if c, err := net.DialTimeout("unix", cfg.Socket, time.Second); err == nil {
		c.Close()
		return 0, "", fmt.Errorf("pacerd already runs for %s (socket %s answers); 'pcsctl cluster stop' stops it", config, cfg.Socket)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return 0, "", err
	}
	logPath := filepath.Join(cfg.DataDir, "pacerd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, "", err
	}
	defer logf.Close()
	bin, pre := pacerdCommand()
	cmd := exec.Command(bin, append(pre, "--config", config)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(15 * time.Second)
	for {
		if c, err := net.DialTimeout("unix", cfg.Socket, 200*time.Millisecond); err == nil {
			c.Close()
			return cmd.Process.Pid, cfg.Socket, nil
		}
		select {
		case err := <-exited:
			return 0, "", fmt.Errorf("pacerd exited at start (%v); its log %s says:\n%s", err, logPath, tail(logPath, 10))
		case <-deadline:
			return cmd.Process.Pid, cfg.Socket, fmt.Errorf("pacerd (pid %d) did not open %s within 15s; see %s", cmd.Process.Pid, cfg.Socket, logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
