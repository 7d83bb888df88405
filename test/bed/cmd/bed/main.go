// Command bed brings the pacer test bed (package pacer/test/bed) up and
// down by hand, as root:
//
//	go run ./test/bed/cmd/bed up [-name bed] [-nodes 3] [-prefix 10.77.0] [-no-haproxy] [-journal]
//	go run ./test/bed/cmd/bed status [-name bed]
//	go run ./test/bed/cmd/bed exec [-name bed] node1|client CMD [ARG...]
//	go run ./test/bed/cmd/bed down [-name bed]
//	go run ./test/bed/cmd/bed sweep
//
// up starts a keeper process that builds the bed and holds it (the nodes
// are its children) until down; down asks the keeper to tear the bed
// down and, if the keeper is gone, tears it down from the state file.
// sweep removes beds whose owner died (a killed test binary or keeper).
// docs/testbed.md has the details.
package main

import (
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

	"pacer/test/bed"
	"pacer/test/internal/bedstate"
	"pacer/test/systemdbed"
)

func main() {
	systemdbed.HelperMain()
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
	case "sweep":
		if errs := bed.Sweep(); len(errs) > 0 {
			err = errors.Join(errs...)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bed:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: bed up|status|exec|down|sweep [flags]
  up     [-name bed] [-nodes 3] [-prefix 10.77.0] [-no-haproxy] [-journal]
  status [-name NAME]           (all beds without -name)
  exec   [-name bed] node1|client CMD [ARG...]
  down   [-name bed]
  sweep                         remove beds whose owner died
`)
	os.Exit(2)
}

type upFlags struct {
	name, prefix     string
	nodes            int
	noHaproxy, journ bool
}

func parseUp(cmd string, args []string) (*upFlags, error) {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	f := &upFlags{}
	fs.StringVar(&f.name, "name", "bed", "name of the bed (state file, namespaces)")
	fs.IntVar(&f.nodes, "nodes", 3, "number of nodes")
	fs.StringVar(&f.prefix, "prefix", bed.DefaultPrefix, "first three octets of the bridge's /24")
	fs.BoolVar(&f.noHaproxy, "no-haproxy", false, "leave haproxy.service out of the nodes")
	fs.BoolVar(&f.journ, "journal", false, "run a journald in every node")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.name == "" || strings.ContainsAny(f.name, "/ \t") || len(f.name) > 24 {
		return nil, fmt.Errorf("bad -name %q: up to 24 characters, no '/' or blanks", f.name)
	}
	return f, nil
}

func (f *upFlags) args() []string {
	a := []string{"-name", f.name, "-nodes", strconv.Itoa(f.nodes), "-prefix", f.prefix}
	if f.noHaproxy {
		a = append(a, "-no-haproxy")
	}
	if f.journ {
		a = append(a, "-journal")
	}
	return a
}

func workDir(name string) string { return filepath.Join(os.TempDir(), "pacer-bed-"+name) }

// up starts the keeper and waits until the bed is ready.
func up(args []string) error {
	f, err := parseUp("up", args)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root: creates namespaces and cgroups")
	}
	for _, err := range bed.Sweep() {
		fmt.Fprintln(os.Stderr, "bed: leftovers of a dead run:", err)
	}
	if st, err := bed.Load(f.name); err == nil && st.OwnerAlive() {
		return fmt.Errorf("bed %s is already up (keeper PID %d); run 'bed down -name %s' first", f.name, st.Owner, f.name)
	}
	dir := workDir(f.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "bed.log")
	var st *bed.State
	took, err := bedstate.StartKeeper(f.args(), logPath, 2*time.Minute, func(keeper int) bool {
		var err error
		st, err = bed.Load(f.name)
		return err == nil && st.Ready && st.Owner == keeper
	})
	if err != nil {
		return err
	}
	fmt.Printf("bed %s is up in %s (keeper PID %d, log %s)\n", f.name, took.Round(time.Millisecond), st.Owner, logPath)
	printState(st)
	return nil
}

// keep builds the bed and holds it until SIGTERM, SIGINT or SIGHUP.
func keep(args []string) error {
	f, err := parseUp("keep", args)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	opts := bed.Options{ID: f.name, Nodes: f.nodes, Prefix: f.prefix, NoHaproxy: f.noHaproxy, Journal: f.journ}
	b, err := bed.Start(opts, workDir(f.name), os.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bed %s up: %d nodes\n", b.ID, len(b.Nodes))
	s := <-sig
	fmt.Fprintf(os.Stderr, "bed %s: %s, tearing down\n", b.ID, s)
	return b.Close()
}

// down asks the keeper to tear the bed down, or does it from the state
// file when the keeper is gone.
func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	name := fs.String("name", "bed", "name of the bed")
	_ = fs.Parse(args)
	st, err := bed.Load(*name)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Printf("bed %s is not up\n", *name)
		return nil
	}
	if err != nil {
		return err
	}
	t0 := time.Now()
	if st.OwnerAlive() {
		_ = syscall.Kill(st.Owner, syscall.SIGTERM)
		for st.OwnerAlive() && time.Since(t0) < 60*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
		if st.OwnerAlive() {
			_ = syscall.Kill(st.Owner, syscall.SIGKILL)
			time.Sleep(100 * time.Millisecond)
		}
	}
	if _, err := os.Stat(bed.Path(*name)); err == nil {
		if err := st.Teardown(); err != nil {
			return err
		}
	}
	fmt.Printf("bed %s is down (%s)\n", *name, time.Since(t0).Round(time.Millisecond))
	return nil
}

func status(args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	name := fs.String("name", "", "name of the bed (all when empty)")
	_ = fs.Parse(args)
	ids := bed.List()
	if *name != "" {
		ids = []string{*name}
	}
	if len(ids) == 0 {
		fmt.Println("no bed is up")
	}
	for _, id := range ids {
		st, err := bed.Load(id)
		if err != nil {
			fmt.Printf("bed %s: %v\n", id, err)
			continue
		}
		owner := "running"
		if !st.OwnerAlive() {
			owner = "DEAD (run 'bed sweep')"
		}
		fmt.Printf("bed %s: owner PID %d %s, ready %v, since %s\n", st.ID, st.Owner, owner, st.Ready, st.Created.Format(time.RFC3339))
		printState(st)
	}
	return nil
}

func printState(st *bed.State) {
	fmt.Printf("  switch netns %s (br0), client netns %s eth0 %s.2/24\n", st.Switch, st.Client, st.Prefix)
	fmt.Printf("  %-7s %-12s %-18s %-8s %-10s %-10s\n", "NODE", "ADDRESS", "MAC", "PID", "SYSTEM", "HAPROXY")
	for _, n := range st.Nodes {
		system, hap := "dead", "-"
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", n.PID)); err == nil {
			system = strings.TrimSpace(run(nsenter(n.PID, "-m", "-p"), "systemctl", "is-system-running"))
			hap = strings.TrimSpace(run(nsenter(n.PID, "-m", "-p"), "systemctl", "is-active", "haproxy"))
		}
		fmt.Printf("  %-7s %-12s %-18s %-8d %-10s %-10s\n", n.Name, n.Addr, n.MAC, n.PID, system, hap)
		if extra := vips(n); extra != "" {
			fmt.Printf("          more addresses: %s\n", extra)
		}
	}
	fmt.Printf("  VIPs: %s.100 and up; shell: bed exec -name %s node1|client CMD\n", st.Prefix, st.ID)
}

// vips lists the node's eth0 addresses other than its own.
func vips(n bed.NodeState) string {
	out := run(nsenter(n.PID, "-n"), "ip", "-o", "-4", "addr", "show", "dev", bed.IfName)
	var extra []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" && !strings.HasPrefix(f[i+1], n.Addr+"/") {
				extra = append(extra, f[i+1])
			}
		}
	}
	return strings.Join(extra, " ")
}

func nsenter(pid int, ns ...string) []string {
	return append(append([]string{"nsenter", "-t", strconv.Itoa(pid)}, ns...), "--")
}

func run(prefix []string, args ...string) string {
	argv := append(append([]string{}, prefix...), args...)
	out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	return string(out)
}

// execIn runs a command in a node (all its namespaces) or in the client
// namespace, with the terminal attached.
func execIn(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ExitOnError)
	name := fs.String("name", "bed", "name of the bed")
	_ = fs.Parse(args)
	rest := fs.Args()
	if len(rest) < 2 {
		return errors.New("usage: bed exec [-name bed] node1|client CMD [ARG...]")
	}
	st, err := bed.Load(*name)
	if err != nil {
		return err
	}
	var argv []string
	if rest[0] == "client" {
		argv = append([]string{"ip", "netns", "exec", st.Client}, rest[1:]...)
	} else {
		for _, n := range st.Nodes {
			if n.Name == rest[0] {
				argv = append(nsenter(n.PID, "-m", "-u", "-i", "-n", "-p"), rest[1:]...)
			}
		}
		if argv == nil {
			return fmt.Errorf("bed %s has no node %q", *name, rest[0])
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	return err
}
