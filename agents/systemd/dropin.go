package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dropIn is the runtime drop-in for a managed unit. Like Pacemaker's
// 50-pacemaker.conf it orders the unit before the cluster daemon (so a
// host shutdown stops pacerd first) and, for services, sets Restart=no:
// a crash must reach the cluster, not be papered over by systemd.
// Configuration under /etc takes precedence over /run, as for Pacemaker.
func dropIn(unit string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by pacer while the cluster manages %s; removed on stop.\n", unit)
	fmt.Fprintf(&b, "[Unit]\nDescription=Cluster Controlled %s\nBefore=pacerd.service\n", unit)
	if strings.HasSuffix(unit, ".service") {
		b.WriteString("\n[Service]\nRestart=no\n")
	}
	return b.Bytes()
}

func dropInPath(dir, unit string) string {
	return filepath.Join(dir, unit+".d", DropInName)
}

// writeDropIn writes the drop-in and reports whether it changed (a
// daemon-reload is needed only then).
func writeDropIn(dir, unit string) (bool, error) {
	p := dropInPath(dir, unit)
	want := dropIn(unit)
	if have, err := os.ReadFile(p); err == nil && bytes.Equal(have, want) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return false, fmt.Errorf("create drop-in directory: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, want, 0o644); err != nil {
		return false, fmt.Errorf("write drop-in: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return false, fmt.Errorf("install drop-in: %w", err)
	}
	return true, nil
}

// removeDropIn removes the drop-in (and its directory when empty) and
// reports whether there was one.
func removeDropIn(dir, unit string) (bool, error) {
	p := dropInPath(dir, unit)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("remove drop-in: %w", err)
	}
	_ = os.Remove(filepath.Dir(p)) // only if empty
	return true, nil
}
