package clusterbed

// initScript is the <init> of every node's LXC domain: PID 1 of the
// domain, run as "bash init.sh NODEDIR NAME". libvirt has already given
// it new pid, mount, uts, ipc and network namespaces, with eth0 (a veth
// whose other end is on br0) configured from the domain's <ip> element.
//
// It does not exec systemd: systemd as PID 1 takes SIGTERM as "re-execute",
// so libvirt's destroy (SIGTERM, then SIGKILL about 1.6 s later) would
// take 1.8 s, where a real machine that loses power dies at once. Instead
// systemd runs as PID 1 of a nested pid namespace, and this shim answers
// SIGTERM by killing every process of the domain and exiting; the kernel
// kills whatever is left when PID 1 of a pid namespace exits.
const initScript = `#!/bin/bash
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
node=$1 name=$2
exec >>"$node/init.log" 2>&1 </dev/null
log() { echo "$(date +%s.%N) [$name shim $$] $*"; }
trap 'kill -KILL -1 2>/dev/null; exit 0' TERM INT HUP
log start
mount --make-rprivate /
# libvirtd's own mount namespace covers /var/lib and /var/log with tmpfs
# (to keep its state off the host); the node wants the host's.
for m in /var/lib /var/log; do
  [ "$(findmnt -n -o FSTYPE "$m" 2>/dev/null)" = tmpfs ] && umount -l "$m"
done
# libvirt mounted a sysfs of the domain's netns on /sys already; a second
# mount of it fails.
[ -e /sys/class/net/eth0 ] || mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || { log "no cgroup2"; exit 1; }
rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
cg=/sys/fs/cgroup${rel%/}/$name
mkdir -p "$cg" && echo $$ > "$cg/cgroup.procs" || { log "cannot join $cg"; exit 1; }
umount /sys/fs/cgroup
ip link set lo up
# fence_xvm requests go to a multicast group; without a route there is no
# interface to send them on.
ip route add 224.0.0.0/4 dev eth0 || log "no multicast route"
unshare --pid --fork --mount --cgroup --mount-proc /bin/bash "$node/stage2.sh" "$node" "$name" &
child=$!
while kill -0 "$child" 2>/dev/null; do wait "$child"; done
log "systemd exited"
`

// stage2Script runs as PID 1 of the nested pid namespace, in its own
// mount and cgroup namespaces, and execs systemd. Everything after the
// bind of NODEDIR is read through /run/testbed/host: the bed's directory
// may be under /tmp, which gets a tmpfs here.
const stage2Script = `#!/bin/bash
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
node=$1 name=$2
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mkdir -p /run/systemd /run/testbed/host /run/pacer
mount --bind "$node" /run/testbed/host
mount -t tmpfs -o mode=755,nosuid,size=4m tmpfs /dev
for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r n ma mi <<<"$spec"; mknod -m 666 "/dev/$n" c "$ma" "$mi"
done
ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
mkdir -m 755 /dev/pts; mkdir -m 1777 /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# systemd logs to /dev/kmsg: make it the node's console.log
touch /dev/kmsg; mount --bind /run/testbed/host/console.log /dev/kmsg
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mkdir -p /var/lib/systemd && mount -t tmpfs -o mode=755 tmpfs /var/lib/systemd
[ -d /var/log/journal ] && mount -t tmpfs -o mode=755 tmpfs /var/log/journal
[ -d /var/lib/pacer ] && mount --bind /run/testbed/host/var-lib-pacer /var/lib/pacer
echo "$name" > /run/testbed/hostname
tr -d '-' < /proc/sys/kernel/random/uuid > /run/testbed/machine-id
mount --bind /run/testbed/hostname /etc/hostname
mount --bind /run/testbed/machine-id /etc/machine-id
hostname "$name"
tf=""
for f in resource-agents.conf haproxy.conf; do
  [ -e "/usr/lib/tmpfiles.d/$f" ] && tf="$tf /usr/lib/tmpfiles.d/$f"
done
[ -n "$tf" ] && systemd-tmpfiles --create $tf >/dev/null 2>&1 || true
# Only the bed's units are visible: no trailing ':' keeps the default
# search path (the host's units) out.
export container=lxc-libvirt
export SYSTEMD_UNIT_PATH=/run/testbed/host/units:/run/systemd/system
exec /lib/systemd/systemd --system --unit=testbed.target --log-target=kmsg --log-level=info --show-status=false
`

const testbedTarget = `[Unit]
Description=pacer cluster bed node
`

// pacerdUnit starts the node's pacerd at boot, so a node that is powered
// on again after a fence rejoins by itself.
const pacerdUnit = `[Unit]
Description=pacer cluster daemon (bed)

[Service]
ExecStart=/run/testbed/host/bin/pacerd --config /run/testbed/host/pacer/pacerd.toml --log-level debug
StandardOutput=append:/run/testbed/host/pacerd.log
StandardError=inherit
Restart=no
`
