// Package bedtest runs pacer's executor and agents against the real
// thing on the test bed (pacer/test/bed): virtual IPs moved between node
// namespaces and seen by a client, haproxy started through a node's own
// systemd, crashes seen by Watch, hung agents killed at their timeout.
// Every test needs root and skips with a one-line reason elsewhere; the
// benchmarks (bench_test.go) measure the same operations. See
// docs/testbed.md.
package bedtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"pacer/agents"
	"pacer/agents/ocf"
	"pacer/crm/cib"
	"pacer/resources"
	"pacer/test/bed"
	"pacer/test/systemdbed"
)

var shared struct {
	once sync.Once
	bed  *bed.Bed
	err  error
}

func TestMain(m *testing.M) {
	systemdbed.HelperMain()
	code := m.Run()
	if shared.bed != nil {
		if err := shared.bed.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "bedtest: tear down the shared bed:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedBed is a 2-node bed shared by the benchmarks (one bed for the
// whole run instead of one per benchmark round); TestMain tears it down.
func sharedBed(tb testing.TB) *bed.Bed {
	tb.Helper()
	bed.Require(tb)
	shared.once.Do(func() { shared.bed, shared.err = bed.Start(bed.Options{Nodes: 2}, "", nil) })
	if shared.err != nil {
		tb.Fatalf("shared bed: %v", shared.err)
	}
	return shared.bed
}

// requireScript skips unless the OCF script is installed.
func requireScript(tb testing.TB, provider, typ string) {
	tb.Helper()
	if !ocf.NewRunner(ocf.Options{}).Installed(provider, typ) {
		tb.Skipf("needs Debian package resource-agents (ocf:%s:%s not installed)", provider, typ)
	}
}

// requireHaproxy skips unless Debian's haproxy.service is installed.
func requireHaproxy(tb testing.TB) {
	tb.Helper()
	if !systemdbed.HaveHaproxy() {
		tb.Skip("needs Debian package haproxy")
	}
}

// vipPrim is an IPaddr2 resource; impl is "native" or "script".
func vipPrim(id, ip, impl string) cib.Primitive {
	return cib.Primitive{ID: id, Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
		Params: map[string]string{"ip": ip, "cidr_netmask": "24", "nic": bed.IfName},
		Meta:   map[string]string{agents.MetaImplementation: impl}}
}

func haproxyPrim(id string) cib.Primitive {
	return cib.Primitive{ID: id, Class: "systemd", Type: "haproxy"}
}

func dummyPrim(id, impl string) cib.Primitive {
	return cib.Primitive{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
		Meta: map[string]string{agents.MetaImplementation: impl}}
}

// run executes one operation and returns its record.
func run(tb testing.TB, ex *resources.Executor, p cib.Primitive, op string, timeout time.Duration) cib.OpRecord {
	tb.Helper()
	rec, err := ex.Execute(context.Background(), resources.Action{Primitive: p, Op: op, Timeout: timeout})
	if err != nil {
		tb.Fatalf("%s %s: %v", op, p.ID, err)
	}
	return rec
}

// must executes an operation and fails unless it completed with rc.
func must(tb testing.TB, ex *resources.Executor, p cib.Primitive, op string, rc int) cib.OpRecord {
	tb.Helper()
	rec := run(tb, ex, p, op, 30*time.Second)
	if rec.RC != rc || rec.OpStatus != 0 {
		tb.Fatalf("%s %s: rc %d op_status %d, want rc %d: %s", op, p.ID, rec.RC, rec.OpStatus, rc, rec.Output)
	}
	return rec
}

// settle repeats a one-shot monitor while it is pending (systemd
// activating/deactivating) and returns the first settled record.
func settle(tb testing.TB, ex *resources.Executor, p cib.Primitive) cib.OpRecord {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := run(tb, ex, p, agents.ActionMonitor, 10*time.Second)
		if rec.OpStatus != -1 || time.Now().After(deadline) {
			return rec
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEvent returns the first executor event for rsc from source, or
// fails after wait.
func waitEvent(tb testing.TB, ex *resources.Executor, rsc, source string, wait time.Duration) resources.Event {
	tb.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ex.Events():
			if !ok {
				tb.Fatal("executor events closed")
			}
			if ev.Resource == rsc && ev.Source == source {
				return ev
			}
		case <-timer.C:
			tb.Fatalf("no %s event for %s within %s", source, rsc, wait)
		}
	}
}

// drain discards pending executor events.
func drain(ex *resources.Executor) {
	for {
		select {
		case <-ex.Events():
		default:
			return
		}
	}
}

// hasAddr reports whether ip is on the node's eth0.
func hasAddr(tb testing.TB, n *bed.Node, ip string) bool {
	tb.Helper()
	return strings.Contains(n.Must(tb, "ip", "-o", "-4", "addr", "show", "dev", bed.IfName), " "+ip+"/")
}

// listen serves the node's name on port in the node's network namespace
// until the test ends, so a client can tell who holds a VIP.
func listen(tb testing.TB, n *bed.Node, port int) {
	tb.Helper()
	var ln net.Listener
	if err := n.InNetNS(func() error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", port))
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, n.Name)
			c.Close()
		}
	}()
}

// who connects from the client to addr and returns the name the
// listener there sends, or an error when nothing answers within timeout.
func who(b *bed.Bed, addr string, timeout time.Duration) (string, error) {
	c, err := b.Client.Dial(addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, 64)
	k, err := c.Read(buf)
	return strings.TrimSpace(string(buf[:k])), err
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1)*p/100 + 0.5)
	return sorted[i]
}
