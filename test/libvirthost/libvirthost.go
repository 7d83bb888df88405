// Package libvirthost is what the test beds that run a private libvirtd
// (stonith/internal/testbed and test/clusterbed) share about the host
// they run on: the wrapper and configuration that keep that libvirtd in
// its own mount namespace with nothing of it on the host, and the
// bookkeeping of the cgroup directories its LXC driver creates on the
// host anyway, which the last bed to finish removes.
package libvirthost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MachineMarker lists /sys/fs/cgroup/*/machine directories that a bed
// made libvirt create. Every bed on the machine appends to the same file,
// so that whichever bed finishes last removes them, even when beds
// overlap.
const MachineMarker = "/tmp/pacer-fencebed-cgroups"

// NoteMachineCgroups records the "machine" cgroup directories that do not
// exist yet: libvirt is about to create them. Call it before starting
// the first domain.
func NoteMachineCgroups() {
	cg, _ := filepath.Glob("/sys/fs/cgroup/*")
	var created []string
	for _, c := range cg {
		if st, err := os.Stat(c); err != nil || !st.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "machine")); errors.Is(err, os.ErrNotExist) {
			created = append(created, filepath.Join(c, "machine"))
		}
	}
	if len(created) > 0 {
		if f, err := os.OpenFile(MachineMarker, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = f.WriteString(strings.Join(created, "\n") + "\n")
			f.Close()
		}
	}
}

// RemoveMachineCgroups removes libvirt's empty cgroup v1 directories of
// the named domains whose controller is gone (libvirt leaves them when a
// domain dies while paused or frozen, and removes the others a moment
// after the controller exits), then the "machine" parents that beds
// caused, when empty. Another bed running at the same time may still use
// them: then they stay, and that bed removes them. It gives up after 2 s.
func RemoveMachineCgroups(domains []string) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, n := range domains {
			dirs, _ := filepath.Glob("/sys/fs/cgroup/*/machine/lxc-*-" + n + ".libvirt-lxc")
			for _, d := range dirs {
				pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), "lxc-"), "-")
				if pid, err := strconv.Atoi(pidStr); err == nil && syscall.Kill(pid, 0) != nil {
					_ = os.Remove(d)
				}
			}
		}
		left := 0
		data, _ := os.ReadFile(MachineMarker)
		for _, c := range strings.Fields(string(data)) {
			if !strings.HasPrefix(c, "/sys/fs/cgroup/") || filepath.Base(c) != "machine" {
				continue
			}
			// Only succeeds when empty.
			if err := os.Remove(c); err != nil && !errors.Is(err, os.ErrNotExist) {
				left++
			}
		}
		if left == 0 {
			_ = os.Remove(MachineMarker)
		}
		if left == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Config is libvirtd.conf for a libvirtd whose work directory is dir: its
// unix socket in DIR/run (root only, no auth), no TLS, plain TCP without
// auth at listenAddr:port (for fence_virtd's and the nodes' libvirt
// clients), and its log at DIR/log/LOGNAME.
func Config(dir, listenAddr string, port int, logName string) string {
	return fmt.Sprintf(`unix_sock_dir = "%[1]s/run"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 1
listen_addr = "%[2]s"
tcp_port = "%[3]d"
auth_tcp = "none"
log_outputs = "3:file:%[1]s/log/%[4]s"
`, dir, listenAddr, port, logName)
}

// Wrapper is the /bin/sh script that runs libvirtd (LXC driver from
// DIR/drivers, DIR/etc/libvirtd.conf) in a mount namespace of its own;
// run it under `unshare --mount --propagation slave`, so that nothing
// propagates out. It hides the cgroup2 "unified" mount of a hybrid
// layout (libvirt 9.0's LXC driver fails on it) and gives libvirtd
// private, empty /run, /var/log, /var/lib and /etc/libvirt, bound to
// DIR/state/*. When cgroup is not empty, the script first moves itself
// into CGROUP/libvirtd, so that libvirtd and every domain it starts run
// below the bed's cgroup.
func Wrapper(dir, cgroup string) string {
	join := ""
	if cgroup != "" {
		join = fmt.Sprintf("echo $$ > %s/libvirtd/cgroup.procs\n", cgroup)
	}
	return fmt.Sprintf(`set -e
%[2]sif mountpoint -q /sys/fs/cgroup/unified && mountpoint -q /sys/fs/cgroup/memory; then umount /sys/fs/cgroup/unified; fi
for m in /run /var/log /var/lib; do mount -t tmpfs -o mode=755 tmpfs $m; done
mkdir -p /run/libvirt /var/log/libvirt /var/lib/libvirt
mount --bind %[1]s/state/run /run/libvirt
mount --bind %[1]s/state/log /var/log/libvirt
mount --bind %[1]s/state/lib /var/lib/libvirt
mount --bind %[1]s/state/etc /etc/libvirt
exec env LIBVIRT_DRIVER_DIR=%[1]s/drivers libvirtd --listen -f %[1]s/etc/libvirtd.conf -p %[1]s/run/libvirtd.pid
`, dir, join)
}
