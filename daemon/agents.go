package daemon

import (
	"os"
	"path/filepath"

	"pacer/agents/builtin"
	"pacer/agents/dummy"
)

// defaultAgents is the agent registry pacerd runs with: OCF scripts,
// systemd units (where systemd runs), native IPaddr2 and Dummy. The native
// Dummy keeps its state files in the data directory, so several nodes on
// one host (the demo) do not see each other's resources.
func defaultAgents(cfg *Config, d *Daemon) *builtin.Set {
	return builtin.New(builtin.Config{
		Dummy:     dummy.Options{Node: cfg.NodeName, StateDir: filepath.Join(cfg.DataDir, "dummy")},
		NoSystemd: !systemdRunning(),
		Logger:    d.log.With("sub", "agents"),
	})
}

// systemdRunning is sd_booted(): systemd is PID 1 on this host.
func systemdRunning() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}
