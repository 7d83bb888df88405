package pcs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/store"
	"pacer/pcs/mon"
)

func demoCmd(g *globals) *cobra.Command {
	var nodes int
	var keep, noWatch bool
	var dir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a local cluster of real pacerd processes on 127.0.0.1 with demo resources",
		Long: `Start N real pacerd processes on 127.0.0.1 (own ports, data in a temporary
directory, no root needed), create a demo group of dummy resources, and show
the live status until Ctrl-C, which stops every process and removes the
directory. A line 'export PACER_SOCKET=...' tells how to point pcsctl at it.`,
		RunE: func(c *cobra.Command, args []string) error {
			if nodes < 1 || nodes > 9 {
				return usage("--nodes must be 1 to 9")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, g, nodes, dir, keep, !noWatch && isTerminal(os.Stdout))
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for configs and data (default: a new temporary directory)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the directory after stopping")
	cmd.Flags().BoolVar(&noWatch, "no-watch", false, "print the status once instead of refreshing it")
	return cmd
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type demoNode struct {
	name   string
	config string
	socket string
	cmd    *exec.Cmd
	exited chan struct{}
}

func runDemo(ctx context.Context, g *globals, n int, dir string, keep, watch bool) (err error) {
	if dir == "" {
		dir, err = os.MkdirTemp("", "pacer-demo-")
		if err != nil {
			return err
		}
		os.Remove(dir) // Setup wants to create it
	}
	base, err := FreePortBlock(3 * n)
	if err != nil {
		return err
	}
	var sn []SetupNode
	for i := 0; i < n; i++ {
		p := base + 3*i
		sn = append(sn, SetupNode{Name: fmt.Sprintf("node%d", i+1), Host: "127.0.0.1", Gossip: p, Raft: p + 1, APIPort: p + 2})
	}
	if err := Setup(SetupOptions{Name: "demo", Nodes: sn, Dir: dir, DataDir: "data", Socket: "pacerd.sock", Now: time.Now()}); err != nil {
		return err
	}
	g.printf("Setting up a %d-node demo cluster in %s\n", n, dir)
	var running []*demoNode
	defer func() {
		g.printf("\nStopping the demo cluster...\n")
		stopDemo(g, running)
		if !keep {
			os.RemoveAll(dir)
		} else {
			g.printf("Kept %s\n", dir)
		}
	}()
	bin, pre := pacerdCommand()
	for _, s := range sn {
		nd := &demoNode{name: s.Name, config: filepath.Join(dir, s.Name, "pacerd.toml"), socket: filepath.Join(dir, s.Name, "pacerd.sock"), exited: make(chan struct{})}
		logf, err := os.Create(filepath.Join(dir, s.Name, "pacerd.log"))
		if err != nil {
			return err
		}
		nd.cmd = exec.Command(bin, append(pre, "--config", nd.config)...)
		nd.cmd.Stdout, nd.cmd.Stderr = logf, logf
		// The nodes die with the demo even if it is killed outright.
		nd.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
		if err := nd.cmd.Start(); err != nil {
			logf.Close()
			return fmt.Errorf("start %s: %w", s.Name, err)
		}
		logf.Close()
		go func() { nd.cmd.Wait(); close(nd.exited) }()
		running = append(running, nd)
		g.printf("  started %s (pid %d), log %s\n", s.Name, nd.cmd.Process.Pid, filepath.Join(dir, s.Name, "pacerd.log"))
	}
	cl := api.NewUnix(running[0].socket)
	cl.Consistent = true
	defer cl.Close()
	g.printf("Waiting for the nodes to elect a leader")
	var st *api.StatusResponse
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-running[0].exited:
			return fmt.Errorf("node1 exited; its log:\n%s", tail(filepath.Join(dir, "node1", "pacerd.log"), 15))
		case <-time.After(200 * time.Millisecond):
		}
		cx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err = cl.Status(cx)
		cancel()
		if err == nil && st.DC != "" && len(st.Nodes) == n {
			break
		}
		g.printf(".")
	}
	g.printf(" done: %s leads (it is the DC).\n", st.DC)
	created, err := createDemoResources(ctx, cl)
	if err != nil {
		return fmt.Errorf("create demo resources: %w", err)
	}
	g.printf("\nTo use pcsctl against this cluster from another shell:\n")
	g.printf("export PACER_SOCKET=%s\n", running[0].socket)
	g.printf("  then e.g.: pcsctl status; pcsctl node standby %s --wait; pcsctl resource create r1 ocf:pacemaker:Dummy meta agent-implementation=native\n", running[len(running)-1].name)
	g.printf("Remote (TLS) access: pcsctl --node 127.0.0.1:%d --tls-dir %s status\n", base+2, filepath.Join(dir, "admin"))
	g.printf("Press Ctrl-C to stop the cluster.\n\n")
	return demoWatch(ctx, g, cl, running, watch, created)
}

func createDemoResources(ctx context.Context, cl *api.Client) (cib.Version, error) {
	cmds := []store.Command{
		&store.SetProperty{Name: "cluster-name", Value: "demo"},
		&store.SetProperty{Name: "stonith-enabled", Value: "false"},
		&store.CreateResource{Group: "web", Primitive: demoDummy("web-ip", "10s")},
		&store.CreateResource{Group: "web", Primitive: demoDummy("web-server", "10s")},
		&store.CreateResource{Primitive: demoDummy("db", "30s")},
		&store.AddConstraint{Order: &cib.Order{First: "db", Then: "web"}},
	}
	// One batch, so the DC never sees the resources without their order.
	b, err := store.NewBatch(cmds...)
	if err != nil {
		return cib.Version{}, err
	}
	cx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := cl.Apply(cx, b)
	if err != nil {
		return cib.Version{}, err
	}
	return r.Version, nil
}

// demoDummy is a dummy resource that runs pacer's native Dummy agent:
// its state file lives in the node's data directory, so the demo's nodes,
// which share one host, each have their own (the OCF script keeps one
// file per host).
func demoDummy(id, interval string) cib.Primitive {
	return cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy",
		Meta: map[string]string{"agent-implementation": "native"},
		Ops:  []cib.Op{{Name: "monitor", Interval: interval, Timeout: "20s"}}}
}

// demoWatch shows the status until ctx ends: redrawn on every change on
// a terminal, once otherwise.
func demoWatch(ctx context.Context, g *globals, cl *api.Client, nodes []*demoNode, watch bool, created cib.Version) error {
	footer := func() {
		g.printf("\n%s  redrawn on every change; Ctrl-C stops the demo cluster. In another shell:\nexport PACER_SOCKET=%s\n", time.Now().Format("15:04:05"), nodes[0].socket)
	}
	if watch {
		return watchStatus(ctx, g, cl, mon.Options{}, true, footer)
	}
	// Printed once, the status should show the demo running: give the DC
	// up to 10 s to start what was just created.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && ctx.Err() == nil; time.Sleep(100 * time.Millisecond) {
		cx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := cl.DC(cx)
		cancel()
		if err == nil && st.Idle && !st.Version.Less(created) {
			break
		}
	}
	cx, cancel := context.WithTimeout(ctx, 5*time.Second)
	st, err := cl.Status(cx)
	cancel()
	switch {
	case err == nil:
		printStatusText(g.out, st, mon.Options{})
	case ctx.Err() == nil:
		g.printf("Cannot read the status: %v\n", err)
	}
	<-ctx.Done()
	return nil
}

// stopDemo sends SIGTERM to every node (graceful leave), then SIGKILL to
// any that has not exited after 10 s.
func stopDemo(g *globals, nodes []*demoNode) {
	for _, nd := range nodes {
		nd.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.After(10 * time.Second)
	for _, nd := range nodes {
		select {
		case <-nd.exited:
			g.printf("  %s stopped\n", nd.name)
		case <-deadline:
			nd.cmd.Process.Kill()
			<-nd.exited
			g.printf("  %s killed (did not stop within 10s)\n", nd.name)
		}
	}
}

// FreePortBlock finds n consecutive ports on 127.0.0.1 free for both
// TCP and UDP (gossip uses both), below Linux's ephemeral range (32768+)
// so that outgoing connections never take a port a node is about to bind.
func FreePortBlock(n int) (int, error) {
	for try := 0; try < 100; try++ {
		base := 20000 + rand.IntN(12000-n)
		ok := true
		var held []interface{ Close() error }
		for i := 0; i < n && ok; i++ {
			addr := "127.0.0.1:" + strconv.Itoa(base+i)
			l, err := net.Listen("tcp", addr)
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
			u, err := net.ListenPacket("udp", addr)
			if err != nil {
				ok = false
				break
			}
			held = append(held, u)
		}
		for _, h := range held {
			h.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no block of %d free ports found on 127.0.0.1", n)
}
