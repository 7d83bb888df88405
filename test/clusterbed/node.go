package clusterbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pacer/api"
	"pacer/stonith/libvirt"
	"pacer/test/systemdbed"
)

// Node is one LXC domain of the bed: its own network namespace with eth0
// on br0, its own systemd (PID 1 of a pid namespace nested in the
// domain's) and, unless Options.NoCluster, pacerd as a unit.
type Node struct {
	Name string // node1, ...: node name, domain name and hostname
	Addr string // PREFIX.(10+i) on eth0
	MAC  string
	// Dir is the node's host-side directory, seen inside as
	// /run/testbed/host: binaries, units, pacer config and data, logs.
	Dir string

	bed *Bed
}

func (b *Bed) newNode(i int) *Node {
	name := fmt.Sprintf("node%d", i)
	if i <= len(b.opts.Names) {
		name = b.opts.Names[i-1]
	}
	return &Node{Name: name, Addr: fmt.Sprintf("%s.%d", b.Prefix, 10+i), MAC: fmt.Sprintf("52:54:00:4e:00:%02x", 10+i),
		Dir: filepath.Join(b.Dir, "nodes", name), bed: b}
}

// prepare writes the node's directory: scripts, units, haproxy config,
// binaries (hard links when possible) and the fence_xvm key.
func (n *Node) prepare() error {
	b := n.bed
	for _, d := range []string{"units/testbed.target.wants", "units/haproxy.service.d", "bin", "data", "var-lib-pacer"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		"stage2.sh":                        stage2Script,
		"units/testbed.target":             testbedTarget,
		"units/haproxy.service.d/bed.conf": systemdbed.HaproxyDropIn,
		"haproxy.cfg":                      systemdbed.HaproxyConfigFor(n.Name),
		"console.log":                      "",
		"units/pacerd.service":             pacerdUnit,
		"units/smoke-sleep.service":        "[Service]\nExecStart=/bin/sleep infinity\n",
		"../../etc/init.sh":                initScript,
	}
	for _, t := range systemdbed.StubTargets {
		files["units/"+t+".target"] = "[Unit]\nDescription=" + t + ".target (bed stub)\n"
	}
	for rel, content := range files {
		if err := os.WriteFile(filepath.Join(n.Dir, rel), []byte(content), 0o755); err != nil {
			return err
		}
	}
	if err := os.Symlink("/lib/systemd/system/haproxy.service", filepath.Join(n.Dir, "units", "haproxy.service")); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if !b.opts.NoCluster {
		if err := os.Symlink("../pacerd.service", filepath.Join(n.Dir, "units", "testbed.target.wants", "pacerd.service")); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	for src, dst := range map[string]string{b.Bin.Pacerd: "bin/pacerd", b.Bin.Pcsctl: "bin/pcsctl", b.KeyFile: "fence_xvm.key"} {
		if err := linkOrCopy(src, filepath.Join(n.Dir, dst)); err != nil {
			return err
		}
	}
	return nil
}

func linkOrCopy(src, dst string) error {
	_ = os.Remove(dst)
	if os.Link(src, dst) == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, st.Mode().Perm())
}

// define registers the node's domain with libvirtd. The domain shares
// the host's root filesystem (the node hides what it must with its own
// mounts) and keeps every capability; its <interface type='bridge'>
// makes libvirt clone a new network namespace, put one end of a veth
// into it as eth0 with the node's address, and the other on br0.
func (b *Bed) define(n *Node) error {
	xml := fmt.Sprintf(`<domain type='lxc'>
  <name>%[1]s</name>
  <memory unit='MiB'>512</memory>
  <os>
    <type>exe</type>
    <init>/bin/bash</init>
    <initarg>%[2]s</initarg>
    <initarg>%[3]s</initarg>
    <initarg>%[1]s</initarg>
  </os>
  <features><capabilities policy='allow'/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='bridge'>
      <source bridge='br0'/>
      <mac address='%[4]s'/>
      <ip address='%[5]s' prefix='24'/>
      <guest dev='eth0'/>
    </interface>
    <console type='pty'/>
  </devices>
</domain>
`, n.Name, filepath.Join(b.Dir, "etc", "init.sh"), n.Dir, n.MAC, n.Addr)
	xf := filepath.Join(b.Dir, "xml", n.Name+".xml")
	if err := os.WriteFile(xf, []byte(xml), 0o644); err != nil {
		return err
	}
	b.mu.Lock()
	b.State.Domains = append(b.State.Domains, n.Name)
	err := b.State.save()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = b.Virsh("define", xf)
	return err
}

// PowerOn starts the node's domain (virsh start); WaitReady waits for its
// systemd.
func (n *Node) PowerOn() error {
	n.thawLeftovers()
	_, err := n.bed.Virsh("start", n.Name)
	return err
}

// Destroy pulls the plug through libvirt (virsh destroy).
func (n *Node) Destroy() error {
	_, err := n.bed.Virsh("destroy", n.Name)
	return err
}

// DomainState is libvirt's state of the node's domain ("running",
// "shut off", ...), read over libvirt's RPC with pacer's own client.
func (n *Node) DomainState(ctx context.Context) (string, error) {
	t, err := libvirt.ParseURI(n.bed.URI)
	if err != nil {
		return "", err
	}
	c, err := libvirt.Connect(ctx, t)
	if err != nil {
		return "", err
	}
	defer c.Close()
	dom, err := c.LookupByName(ctx, n.Name)
	if err != nil {
		return "", err
	}
	st, _, err := c.State(ctx, dom)
	if err != nil {
		return "", err
	}
	return st.String(), nil
}

// ControllerPID is the host PID of the domain's libvirt_lxc controller.
func (n *Node) ControllerPID() (int, error) {
	data, err := os.ReadFile(filepath.Join(n.bed.Dir, "state", "run", "lxc", n.Name+".pid"))
	if err != nil {
		return 0, errNotRunning
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || zombie(pid) {
		return 0, errNotRunning
	}
	return pid, nil
}

// InitPID is the host PID of the domain's PID 1 (the shim).
func (n *Node) InitPID() (int, error) {
	ctl, err := n.ControllerPID()
	if err != nil {
		return 0, err
	}
	for _, k := range children(ctl) {
		if ns := nspids(k); len(ns) == 2 && ns[1] == 1 && !zombie(k) {
			return k, nil
		}
	}
	return 0, errNotRunning
}

// PID is the host PID of the node's systemd: PID 1 of the pid namespace
// nested in the domain's.
func (n *Node) PID() (int, error) {
	init, err := n.InitPID()
	if err != nil {
		return 0, err
	}
	for _, u := range children(init) {
		for _, k := range children(u) {
			if ns := nspids(k); len(ns) == 3 && ns[2] == 1 && !zombie(k) {
				return k, nil
			}
		}
	}
	return 0, errNotRunning
}

func (n *Node) pidOrZero() int { p, _ := n.PID(); return p }

func children(pid int) []int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if k, err := strconv.Atoi(f); err == nil {
			out = append(out, k)
		}
	}
	return out
}

func nspids(pid int) []int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if f, ok := strings.CutPrefix(l, "NSpid:"); ok {
			var out []int
			for _, x := range strings.Fields(f) {
				v, _ := strconv.Atoi(x)
				out = append(out, v)
			}
			return out
		}
	}
	return nil
}

// Cgroup is the node's cgroup2 directory on the host: every process of
// the node (shim, systemd, units) is below it.
func (n *Node) Cgroup() string { return filepath.Join(n.bed.cgroup, "libvirtd", n.Name) }

// Processes are the node's live processes (host PIDs); zombies count as
// dead.
func (n *Node) Processes() []int {
	var out []int
	for _, pid := range cgroupPIDs(n.Cgroup()) {
		if !zombie(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// Ready reports whether the node's systemd reached testbed.target.
func (n *Node) Ready() bool {
	pid, err := n.PID()
	if err != nil {
		return false
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/run/systemd/private", pid)); err != nil {
		return false
	}
	return exec.Command("nsenter", "-t", strconv.Itoa(pid), "-m", "-p", "--", "systemctl", "is-active", "-q", "testbed.target").Run() == nil
}

// WaitReady waits until the node's systemd reached testbed.target.
func (n *Node) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !n.Ready() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v\n%s", n.Name, timeout, n.bed.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// Enter is the nsenter command line that runs a program in every
// namespace of the node, as a process of its systemd's pid namespace.
func (n *Node) Enter() ([]string, error) {
	pid, err := n.PID()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return []string{"nsenter", "-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-C", "--"}, nil
}

// Command prepares args to run inside the node.
func (n *Node) Command(args ...string) (*exec.Cmd, error) {
	argv, err := n.Enter()
	if err != nil {
		return nil, err
	}
	argv = append(argv, args...)
	return exec.Command(argv[0], argv[1:]...), nil
}

// Exec runs a command inside the node and returns its combined output.
func (n *Node) Exec(args ...string) (string, error) {
	cmd, err := n.Command(args...)
	if err != nil {
		return "", err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s: %w: %s", n.Name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Pcsctl runs the node's pcsctl inside the node against its pacerd's
// unix socket and returns stdout, stderr and the exit code (-1 when it
// could not run).
func (n *Node) Pcsctl(args ...string) (stdout, stderr string, code int) {
	cmd, err := n.Command(append([]string{"/run/testbed/host/bin/pcsctl", "--socket", NodeSocket}, args...)...)
	if err != nil {
		return "", err.Error(), -1
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		code = -1
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

// API is an API client on the node's pacerd socket, reached from the
// host through the node's root (/proc/PID/root).
func (n *Node) API() (*api.Client, error) {
	pid, err := n.PID()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return api.NewUnix(fmt.Sprintf("/proc/%d/root%s", pid, NodeSocket)), nil
}

// Log is the node's pacerd log so far.
func (n *Node) Log() string {
	data, _ := os.ReadFile(filepath.Join(n.Dir, "pacerd.log"))
	return string(data)
}

// signalAll sends sig to every process of the node.
func (n *Node) signalAll(sig syscall.Signal) int {
	pids := n.Processes()
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
	return len(pids)
}

func itoa(i int) string { return strconv.Itoa(i) }

// describeProcesses lists, for a failure message, the domain's controller
// and every task still in the node's cgroup with its state and parent:
// what keeps a killed node from being reported dead.
func (n *Node) describeProcesses() string {
	var sb strings.Builder
	if ctl, err := n.ControllerPID(); err == nil {
		fmt.Fprintf(&sb, "controller %d: %s\n", ctl, procLine(ctl))
	} else {
		fmt.Fprintf(&sb, "controller: %v\n", err)
	}
	for _, pid := range cgroupPIDs(n.Cgroup()) {
		fmt.Fprintf(&sb, "%d: %s\n", pid, procLine(pid))
	}
	return sb.String()
}

// procLine is a process's state, parent, namespace PIDs and command line.
func procLine(pid int) string {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "gone"
	}
	var state, ppid, nspid string
	for _, l := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(l, ":")
		switch k {
		case "State":
			state = strings.TrimSpace(v)
		case "PPid":
			ppid = strings.TrimSpace(v)
		case "NSpid":
			nspid = strings.Join(strings.Fields(v), "/")
		}
	}
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	return fmt.Sprintf("state %s ppid %s nspid %s wchan %s: %s", state, ppid, nspid, wchan,
		strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
}
