package systemdbed

import "strings"

// initScript runs as PID 1 of the node's new pid, mount, uts, ipc, net and
// cgroup namespaces (started through unshare) and execs systemd. Arguments:
// WORKDIR NAME. Everything it mounts is private to the node's mount
// namespace; the host-side work dir is seen inside at /run/testbed/host.
// Why each step is there: shared/systemd-testbed/README.md.
const initScript = `#!/bin/bash
set -euo pipefail
work=$1 name=$2
mount --make-rprivate /
# copies of host mounts below /run (other people's /run/netns/*) would pin
# their namespaces for as long as this node lives; one that its owner
# deletes meanwhile is already gone, which is fine
findmnt -rn -o TARGET | { grep '^/run/' || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mkdir -p /run/systemd/system /run/testbed/host
mount --bind "$work" /run/testbed/host
# a private /dev, so nothing lands in the host's devtmpfs
mount -t tmpfs -o mode=755,nosuid,size=4m tmpfs /dev
for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r n ma mi <<<"$spec"; mknod -m 666 "/dev/$n" c "$ma" "$mi"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
mkdir -m 755 /dev/pts; mkdir -m 1777 /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
# systemd logs to "kmsg", which is the node's console.log
touch /dev/kmsg; mount --bind /run/testbed/host/console.log /dev/kmsg
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
[ -d /var/lib/systemd ] && mount -t tmpfs -o mode=755 tmpfs /var/lib/systemd
[ -d /var/log/journal ] && mount -t tmpfs -o mode=755 tmpfs /var/log/journal
echo "$name" > /run/testbed/hostname
tr -d '-' < /proc/sys/kernel/random/uuid > /run/testbed/machine-id
mount --bind /run/testbed/hostname /etc/hostname
mount --bind /run/testbed/machine-id /etc/machine-id
ip link set lo up 2>/dev/null || true
export container=pacer-testbed
# only the bed's units and runtime drop-ins: no host unit can be started
export SYSTEMD_UNIT_PATH=/run/testbed/host/units:/run/systemd/system
exec /lib/systemd/systemd --system --unit=testbed.target --log-target=kmsg --log-level=info --show-status=false
`

// StubTargets are the targets services pull in through
// DefaultDependencies; with the isolated unit path they must exist, and
// empty they let a node boot in a fraction of a second. test/clusterbed's
// nodes boot with the same isolated unit path.
var StubTargets = []string{"sysinit", "basic", "shutdown", "sockets", "paths", "timers", "slices",
	"local-fs", "network", "network-online", "multi-user"}

// HaproxyDropIn points Debian's haproxy.service at the bed's config
// (/run/testbed/host/haproxy.cfg) and drops its /dev/log bind (there is
// no syslog in a node).
const HaproxyDropIn = `[Service]
Environment=CONFIG=/run/testbed/host/haproxy.cfg
BindReadOnlyPaths=
`

// HaproxyConfig answers "haproxy ok" on :8080.
const HaproxyConfig = `global
    stats socket /run/haproxy-admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind :8080
    http-request return status 200 content-type text/plain string "haproxy ok\n"
`

// HaproxyConfigFor is HaproxyConfig answering "haproxy ok from NODE", so
// that a client can tell which node serves a virtual IP.
func HaproxyConfigFor(node string) string {
	return strings.Replace(HaproxyConfig, `"haproxy ok\n"`, `"haproxy ok from `+node+`\n"`, 1)
}

// SleepUnit is a plain service with Restart=always, for hosts without
// haproxy: the agent's Restart=no drop-in must still make a kill visible.
const SleepUnit = `[Unit]
Description=pacer test bed sleeper

[Service]
ExecStart=/bin/sleep infinity
Restart=always
`
