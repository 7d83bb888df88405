package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"pacer/api"
	"pacer/pcs"
)

// Cluster is a set of pacerd processes on 127.0.0.1.
type Cluster struct {
	Dir   string
	Bin   Binaries
	Nodes []*Node
	// witness is the node set up as a witness, "" for none: it is never
	// listed among the CIB's nodes.
	witness string
}

// Node is one pacerd process and its files.
type Node struct {
	Name   string
	Dir    string
	Config string
	Socket string
	API    string
	bin    string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// Options shape a test cluster.
type Options struct {
	Nodes int
	// Extra is appended to every node's pacerd.toml (e.g. voter_replace_after).
	Extra string
	// Witness names a node set up as a witness (votes, runs nothing).
	Witness string
}

// New sets up (but does not start) n nodes under dir.
func New(dir string, bin Binaries, o Options) (*Cluster, error) {
	base, err := pcs.FreePortBlock(3 * o.Nodes)
	if err != nil {
		return nil, err
	}
	var sn []pcs.SetupNode
	for i := 0; i < o.Nodes; i++ {
		p := base + 3*i
		name := fmt.Sprintf("node%d", i+1)
		sn = append(sn, pcs.SetupNode{Name: name, Host: "127.0.0.1", Gossip: p, Raft: p + 1, APIPort: p + 2, Witness: name == o.Witness})
	}
	cdir := filepath.Join(dir, "cluster")
	if err := pcs.Setup(pcs.SetupOptions{Name: "test", Nodes: sn, Dir: cdir, DataDir: "data", Socket: "pacerd.sock", Now: time.Now()}); err != nil {
		return nil, err
	}
	c := &Cluster{Dir: cdir, Bin: bin, witness: o.Witness}
	for _, s := range sn {
		n := &Node{Name: s.Name, Dir: filepath.Join(cdir, s.Name), bin: bin.Pacerd, API: fmt.Sprintf("127.0.0.1:%d", s.APIPort)}
		n.Config = filepath.Join(n.Dir, "pacerd.toml")
		n.Socket = filepath.Join(n.Dir, "pacerd.sock")
		if o.Extra != "" {
			if err := InsertTopLevel(n.Config, o.Extra); err != nil {
				return nil, err
			}
		}
		c.Nodes = append(c.Nodes, n)
	}
	return c, nil
}

// Start starts every node.
func (c *Cluster) Start() error {
	for _, n := range c.Nodes {
		if err := n.Start(); err != nil {
			return err
		}
	}
	return nil
}

// Close ends every process this cluster started (SIGKILL: tests that
// need a graceful stop call Stop themselves).
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// Start runs pacerd for this node; its output goes to pacerd.log.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("%s already running", n.Name)
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, "pacerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(n.bin, "--config", n.Config, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	go func(ch chan struct{}) {
		err := cmd.Wait()
		n.mu.Lock()
		n.err = err
		n.mu.Unlock()
		close(ch)
	}(n.exited)
	return nil
}

// PID returns the running process id, or 0.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Running reports whether the process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	ch := n.exited
	n.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to go: a crash.
func (n *Node) Kill() { n.signalAndWait(syscall.SIGKILL, 0) }

// Stop sends SIGTERM and waits up to timeout; it returns the exit error.
func (n *Node) Stop(timeout time.Duration) error {
	return n.signalAndWait(syscall.SIGTERM, timeout)
}

func (n *Node) signalAndWait(sig syscall.Signal, timeout time.Duration) error {
	n.mu.Lock()
	cmd, ch := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(sig)
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	select {
	case <-ch:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-ch
		return fmt.Errorf("%s did not exit within %v after %v", n.Name, timeout, sig)
	}
	n.mu.Lock()
	err := n.err
	n.cmd = nil
	n.mu.Unlock()
	return err
}

// Freeze and Thaw stop and resume the process (SIGSTOP/SIGCONT).
func (n *Node) Freeze() { n.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen node.
func (n *Node) Thaw() { n.signal(syscall.SIGCONT) }

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		n.cmd.Process.Signal(sig)
	}
}

// Client returns an API client on the node's unix socket.
func (n *Node) Client() *api.Client { return api.NewUnix(n.Socket) }

// Log returns the node's log so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "pacerd.log"))
	return string(b)
}

// WaitLeader waits until every running node reports the same leader and
// returns its name.
func (c *Cluster) WaitLeader(ctx context.Context) (string, error) {
	return PollLeader(ctx, c.agreedLeader)
}

func (c *Cluster) agreedLeader(ctx context.Context) (string, error) {
	want := len(c.Nodes)
	if c.witness != "" {
		want--
	}
	leader := ""
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		cl := n.Client()
		cx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := cl.Status(cx)
		var x *api.CIBResponse
		if err == nil {
			x, err = cl.CIB(cx, 0)
		}
		cancel()
		cl.Close()
		if err != nil {
			return "", err
		}
		if leader, err = AgreeLeader(leader, n.Name, st, x, want); err != nil {
			return "", err
		}
	}
	if leader == "" {
		return "", errors.New("no node running")
	}
	return leader, nil
}

// Node returns the node with that name.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Pcsctl runs the built pcsctl against node n and returns stdout,
// stderr and the exit code.
func (c *Cluster) Pcsctl(n *Node, args ...string) (string, string, int) {
	cmd := exec.Command(c.Bin.Pcsctl, append([]string{"--socket", n.Socket}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return out.String(), errb.String(), code
}
