// Command clusterbed brings the LXC cluster bed (package
// pacer/test/clusterbed) up and down by hand, as root:
//
//	go run ./test/clusterbed/cmd/clusterbed up [-name cbed] [-nodes 3] [-prefix 10.78.0] [-no-cluster] [-no-fence-virtd] [-fence-host PORT]
//	go run ./test/clusterbed/cmd/clusterbed status [-name cbed]
//	go run ./test/clusterbed/cmd/clusterbed exec [-name cbed] node1|client CMD [ARG...]
//	go run ./test/clusterbed/cmd/clusterbed pcsctl [-name cbed] node1 ARG...
//	go run ./test/clusterbed/cmd/clusterbed fence_xvm [-name cbed] ARG...   (in the fabric, with the bed's key)
//	go run ./test/clusterbed/cmd/clusterbed down [-name cbed]
//	go run ./test/clusterbed/cmd/clusterbed sweep
//
// up starts a keeper process that builds the bed and holds its daemons
// until down; down asks the keeper to tear the bed down and, if the
// keeper is gone, tears it down from the state file. docs/testbed.md has
// the details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pacer/test/clusterbed"
	"pacer/test/internal/bedstate"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = up(args)
	case "keep":
		err = keep(args)
	case "down":
		err = down(args)
	case "status":
		err = status(args)
	case "exec":
		err = execIn(args)
	case "pcsctl":
		err = pcsctl(args)
	case "fence_xvm":
		err = fenceXVM(args)
	case "sweep":
		err = errors.Join(clusterbed.Sweep()...)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterbed:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: clusterbed up|status|exec|pcsctl|fence_xvm|down|sweep [flags]
  up        [-name cbed] [-nodes 3] [-prefix 10.78.0] [-no-cluster] [-no-fence-virtd] [-fence-host PORT]
  status    [-name cbed]
  exec      [-name cbed] node1|client CMD [ARG...]
  pcsctl    [-name cbed] node1 ARG...
  fence_xvm [-name cbed] ARG...        e.g. -o list, -o off -H node2
  down      [-name cbed]
  sweep                                remove beds whose owner died
`)
	os.Exit(2)
}

type upFlags struct {
	name, prefix       string
	nodes, fenceHost   int
	noCluster, noVirtd bool
}

func parseUp(cmd string, args []string) *upFlags {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	f := &upFlags{}
	fs.StringVar(&f.name, "name", "cbed", "name of the bed (state file, namespaces, cgroup)")
	fs.IntVar(&f.nodes, "nodes", 3, "number of nodes")
	fs.StringVar(&f.prefix, "prefix", clusterbed.DefaultPrefix, "first three octets of br0's /24")
	fs.BoolVar(&f.noCluster, "no-cluster", false, "boot the nodes without pacerd")
	fs.BoolVar(&f.noVirtd, "no-fence-virtd", false, "do not start Debian's fence_virtd")
	fs.IntVar(&f.fenceHost, "fence-host", 0, "also run pacer's fence-host on this multicast port (0: no)")
	_ = fs.Parse(args)
	return f
}

func (f *upFlags) args() []string {
	a := []string{"-name", f.name, "-nodes", strconv.Itoa(f.nodes), "-prefix", f.prefix, "-fence-host", strconv.Itoa(f.fenceHost)}
	if f.noCluster {
		a = append(a, "-no-cluster")
	}
	if f.noVirtd {
		a = append(a, "-no-fence-virtd")
	}
	return a
}

func logFile(name string) string { return filepath.Join(os.TempDir(), "pacer-cbed-"+name+".log") }

func workDir(name string) string { return filepath.Join(os.TempDir(), "pacer-cbed-"+name) }

func up(args []string) error {
	f := parseUp("up", args)
	if why := clusterbed.Check(); why != "" {
		return errors.New(why)
	}
	for _, err := range clusterbed.Sweep() {
		fmt.Fprintln(os.Stderr, "clusterbed: leftovers of a dead run:", err)
	}
	if st, err := clusterbed.Load(f.name); err == nil && st.OwnerAlive() {
		return fmt.Errorf("bed %s is already up (keeper PID %d); run 'clusterbed down -name %s' first", f.name, st.Owner, f.name)
	}
	logPath := logFile(f.name)
	var st *clusterbed.State
	took, err := bedstate.StartKeeper(f.args(), logPath, 5*time.Minute, func(keeper int) bool {
		var err error
		st, err = clusterbed.Load(f.name)
		return err == nil && st.Ready && st.Owner == keeper
	})
	if err != nil {
		return err
	}
	fmt.Printf("bed %s is up in %s (keeper PID %d, log %s)\n", f.name, took.Round(time.Millisecond), st.Owner, logPath)
	return status([]string{"-name", f.name})
}

// keep builds the bed and holds it until SIGTERM, SIGINT or SIGHUP.
func keep(args []string) error {
	f := parseUp("keep", args)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	clusterbed.BuildDir = filepath.Join(workDir(f.name), "build")
	b, err := clusterbed.Start(clusterbed.Options{ID: f.name, Nodes: f.nodes, Prefix: f.prefix, Dir: workDir(f.name),
		NoCluster: f.noCluster, NoFenceVirtd: f.noVirtd, Log: os.Stderr})
	if err != nil {
		return err
	}
	if f.fenceHost > 0 {
		if err := b.StartFenceHost(f.fenceHost); err != nil {
			return errors.Join(err, b.Close())
		}
	}
	s := <-sig
	fmt.Fprintf(os.Stderr, "clusterbed %s: %s, tearing down\n", b.ID, s)
	t0 := time.Now()
	err = b.Close()
	fmt.Fprintf(os.Stderr, "clusterbed %s: down in %v\n", b.ID, time.Since(t0).Round(time.Millisecond))
	return err
}

// nameFlag takes a leading "-name NAME" and leaves the rest alone (the
// rest is a command line of its own, e.g. fence_xvm -o list).
func nameFlag(args []string) (string, []string) {
	if len(args) >= 2 && (args[0] == "-name" || args[0] == "--name") {
		return args[1], args[2:]
	}
	return "cbed", args
}

func down(args []string) error {
	name, _ := nameFlag(args)
	st, err := clusterbed.Load(name)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Printf("bed %s is not up\n", name)
		return nil
	}
	if err != nil {
		return err
	}
	t0 := time.Now()
	if st.OwnerAlive() {
		_ = syscall.Kill(st.Owner, syscall.SIGTERM)
		for st.OwnerAlive() && time.Since(t0) < time.Minute {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := clusterbed.Load(name); err == nil {
		if err := st.Teardown(); err != nil {
			return err
		}
	}
	_ = os.Remove(logFile(name))
	fmt.Printf("bed %s is down (%v)\n", name, time.Since(t0).Round(time.Millisecond))
	return nil
}

func status(args []string) error {
	name, _ := nameFlag(args)
	b, err := clusterbed.Attach(name)
	if err != nil {
		return err
	}
	st := b.State
	fmt.Printf("bed %s: owner PID %d (alive %v), dir %s\n", st.ID, st.Owner, st.OwnerAlive(), st.Dir)
	fmt.Printf("  fabric netns %s: br0 %s, libvirtd %s (from nodes: %s)\n", st.Fabric, b.BridgeAddr(), b.URI, b.NodeURI)
	fmt.Printf("  client netns %s: eth0 %s; VIPs %s and up\n", st.Client, b.Client.Addr, b.VIP(0))
	fmt.Printf("  fence_xvm key %s (nodes: %s), multicast %s:%d on br0\n", b.KeyFile, clusterbed.NodeKeyFile, clusterbed.MulticastGroup, clusterbed.MulticastPort)
	for _, p := range st.Procs {
		fmt.Printf("  daemon %-12s PID %d\n", p.Name, p.PID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, n := range b.Nodes {
		state, _ := n.DomainState(ctx)
		pid, _ := n.PID()
		dc, _ := n.DC(ctx)
		fmt.Printf("  %s %s: domain %s, systemd PID %d, eth0 %v, DC %q\n", n.Name, n.Addr, state, pid, n.Addrs(), dc)
	}
	return nil
}

func execIn(args []string) error {
	name, rest := nameFlag(args)
	if len(rest) < 2 {
		usage()
	}
	b, err := clusterbed.Attach(name)
	if err != nil {
		return err
	}
	var argv []string
	if rest[0] == "client" {
		argv = append([]string{"ip", "netns", "exec", b.ClientNS}, rest[1:]...)
	} else {
		n := b.Node(rest[0])
		if n == nil {
			return fmt.Errorf("no node %s", rest[0])
		}
		enter, err := n.Enter()
		if err != nil {
			return err
		}
		argv = append(enter, rest[1:]...)
	}
	return passthrough(argv)
}

func pcsctl(args []string) error {
	name, rest := nameFlag(args)
	if len(rest) < 1 {
		usage()
	}
	b, err := clusterbed.Attach(name)
	if err != nil {
		return err
	}
	n := b.Node(rest[0])
	if n == nil {
		return fmt.Errorf("no node %s", rest[0])
	}
	enter, err := n.Enter()
	if err != nil {
		return err
	}
	return passthrough(append(enter, append([]string{"/run/testbed/host/bin/pcsctl", "--socket", clusterbed.NodeSocket}, rest[1:]...)...))
}

func fenceXVM(args []string) error {
	name, rest := nameFlag(args)
	b, err := clusterbed.Attach(name)
	if err != nil {
		return err
	}
	return passthrough(append([]string{"nsenter", "--net=/run/netns/" + b.Fabric, "--", "fence_xvm", "-k", b.KeyFile}, rest...))
}

// passthrough runs argv with our stdio and exits with its status.
func passthrough(argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}
