package fencehost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pacer/stonith"
	"pacer/stonith/internal/testbed"
	"pacer/stonith/xvm"
)

// syncLog collects the host's log lines from its goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) printf(f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, f+"\n", a...)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSortHosts(t *testing.T) {
	hs := []xvm.HostRecord{{Name: "node2"}, {Name: "Node1"}, {Name: "a"}, {Name: "node10"}}
	sortHosts(hs)
	var got []string
	for _, h := range hs {
		got = append(got, h.Name)
	}
	if strings.Join(got, ",") != "a,Node1,node10,node2" {
		t.Fatalf("sorted %v", got)
	}
	if _, err := New(Config{URI: "qemu:///system"}); err == nil {
		t.Fatal("empty key accepted")
	}
	if _, err := New(Config{Key: []byte("k"), URI: "qemu+ssh://h/system"}); err == nil {
		t.Fatal("unsupported URI accepted")
	}
}

// TestDebianFenceXVMThroughFenceHost: Debian's real fence_xvm client
// fences an LXC domain through our fence-host (multicast listener), and
// our own client does the same through its tcp listener.
func TestDebianFenceXVMThroughFenceHost(t *testing.T) {
	bed := testbed.Start(t, testbed.Options{Nodes: 1})
	fenceXVM, err := exec.LookPath("fence_xvm")
	if err != nil {
		t.Skip("fence_xvm not installed (Debian package fence-virt)")
	}
	var logs syncLog
	host, err := New(Config{Key: bed.Key, URI: bed.LXCURI, Logf: logs.printf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 2)
	ready := make(chan struct{}, 2)
	// The servers run on threads inside the bed's network namespace, so
	// that their callback connections are made there too.
	go func() {
		served <- bed.Do(func() error {
			conn, err := ListenMulticast(testbed.MulticastAddr, "lo")
			if err != nil {
				ready <- struct{}{}
				return err
			}
			defer conn.Close()
			ready <- struct{}{}
			return host.ServeUDP(ctx, conn)
		})
	}()
	go func() {
		served <- bed.Do(func() error {
			ln, err := net.Listen("tcp", testbed.XVMTCPAddr)
			ready <- struct{}{}
			if err != nil {
				return err
			}
			return host.ServeTCP(ctx, ln)
		})
	}()
	<-ready
	<-ready
	defer func() {
		cancel()
		for i := 0; i < 2; i++ {
			if err := <-served; err != nil {
				t.Errorf("server: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("fence-host log:\n%s", logs.String())
		}
	}()

	fx := func(key string, args ...string) (string, int) {
		var out []byte
		code := 0
		bed.Do(func() error {
			cmd := exec.Command(fenceXVM, append([]string{"-k", key, "-t", "5"}, args...)...)
			cmd.WaitDelay = time.Second
			out, _ = cmd.CombinedOutput()
			code = cmd.ProcessState.ExitCode()
			return nil
		})
		return strings.TrimSpace(string(out)), code
	}
	if out, code := fx(bed.KeyFile, "-o", "list"); code != 0 || !strings.HasPrefix(out, "node1 ") || !strings.HasSuffix(out, " on") {
		t.Fatalf("fence_xvm -o list: %d %q", code, out)
	}
	if out, code := fx(bed.KeyFile, "-o", "status", "-H", "node1"); code != 0 || out != "Status: ON" {
		t.Fatalf("fence_xvm -o status: %d %q", code, out)
	}
	start := time.Now()
	if out, code := fx(bed.KeyFile, "-o", "off", "-H", "node1"); code != 0 {
		t.Fatalf("fence_xvm -o off: %d %q", code, out)
	}
	t.Logf("Debian fence_xvm -o off through fence-host: %v", time.Since(start))
	if s, _ := bed.Virsh("domstate", "node1", "--reason"); s != "shut off (destroyed)" {
		t.Fatalf("after off: %q", s)
	}
	if p := bed.NodePIDs("node1"); len(p) > 0 {
		t.Fatalf("node1 processes still alive: %v", p)
	}
	if out, code := fx(bed.KeyFile, "-o", "status", "-H", "node1"); code != 2 || out != "Status: OFF" {
		t.Fatalf("status after off: %d %q", code, out)
	}
	if out, code := fx(bed.KeyFile, "-o", "on", "-H", "node1"); code != 0 {
		t.Fatalf("fence_xvm -o on: %d %q", code, out)
	}
	if err := bed.WaitNode("node1", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if out, code := fx(bed.KeyFile, "-o", "off", "-H", "nosuch"); code != 1 {
		t.Fatalf("off nosuch: %d %q", code, out)
	}
	wrongKey := filepath.Join(t.TempDir(), "wrong.key")
	os.WriteFile(wrongKey, []byte("not the key"), 0o600)
	if out, code := fx(wrongKey, "-t", "2", "-o", "off", "-H", "node1"); code != 1 {
		t.Fatalf("wrong key: %d %q", code, out)
	}
	if s, _ := bed.Virsh("domstate", "node1"); s != "running" {
		t.Fatalf("node1 touched by a wrong-key request: %q", s)
	}
	if !strings.Contains(logs.String(), "signature does not match") {
		t.Errorf("wrong-key request not logged as such:\n%s", logs.String())
	}

	// Our own client, through the tcp listener.
	err = bed.Do(func() error {
		d, err := xvm.NewDevice(xvm.Config{Key: bed.Key, Transport: xvm.TCP, Addr: testbed.XVMTCPAddr, Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		if _, err := d.Fence(ctx, "node1", stonith.ActionReboot); err != nil {
			return err
		}
		list, err := d.List(ctx)
		if err != nil || len(list) != 1 || list[0].State != stonith.PowerOn {
			return fmt.Errorf("list: %+v, %v", list, err)
		}
		udp, _ := xvm.NewDevice(xvm.Config{Key: bed.Key, CallbackAddr: netip.MustParseAddr("127.0.0.1"), Timeout: 10 * time.Second})
		if st, err := udp.Status(ctx, "node1"); err != nil || st != stonith.PowerOn {
			return fmt.Errorf("status: %v, %v", st, err)
		}
		cycles := 3
		if n, err := strconv.Atoi(os.Getenv("PACER_FENCE_CYCLES")); err == nil && n > 0 {
			cycles = n
		}
		var confirm []time.Duration
		for i := 0; i < cycles; i++ {
			if err := bed.WaitNode("node1", 10*time.Second); err != nil {
				return err
			}
			res, err := udp.Fence(ctx, "node1", stonith.ActionOff)
			if err != nil {
				return err
			}
			if p := bed.NodePIDs("node1"); len(p) > 0 {
				return fmt.Errorf("node1 processes alive after a confirmed off: %v", p)
			}
			confirm = append(confirm, res.Duration)
			if _, err := udp.Fence(ctx, "node1", stonith.ActionOn); err != nil {
				return err
			}
		}
		t.Logf("pacer fence_xvm client -> fence-host off, request -> confirmed (domain processes already gone): %s", testbed.Stats(confirm))
		bad, _ := xvm.NewDevice(xvm.Config{Key: bed.Key, Auth: xvm.HashSHA512, Transport: xvm.TCP, Addr: testbed.XVMTCPAddr})
		if err := bad.Monitor(ctx); !errors.Is(err, stonith.ErrAuth) {
			return fmt.Errorf("wrong auth hash: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
