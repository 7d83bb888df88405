package systemd

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"pacer/agents"
	"pacer/test/systemdbed"
)

func TestMain(m *testing.M) {
	systemdbed.HelperMain()
	os.Exit(m.Run())
}

// bed is a booted node with a Manager talking to its systemd.
type bed struct {
	node *systemdbed.Node
	m    *Manager
	unit string // "haproxy" when installed, else a sleep service with Restart=always
}

func newBed(t testing.TB) *bed {
	t.Helper()
	node := systemdbed.Boot(t, systemdbed.Options{Units: map[string]string{"pacer-sleep.service": systemdbed.SleepUnit}})
	m := New(Options{Dial: node.DialBus, DropInDir: node.RuntimeUnitDir()})
	t.Cleanup(m.Close)
	unit := "pacer-sleep"
	if systemdbed.HaveHaproxy() {
		unit = "haproxy"
	}
	return &bed{node: node, m: m, unit: unit}
}

func must(t testing.TB, what string, r agents.Result, want agents.Code) {
	t.Helper()
	if r.Status != agents.StatusDone || r.Code != want {
		t.Fatalf("%s: got %s, want %s\n%s", what, r, want, r.Output)
	}
}

// mainPID returns the host PID of the unit's main process.
func (b *bed) mainPID(t testing.TB, a *Agent) int {
	t.Helper()
	c, err := b.m.connection(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.GetServicePropertyContext(context.Background(), a.unit, "MainPID")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := p.Value.Value().(uint32)
	host, err := b.node.HostPID(int(pid))
	if err != nil {
		t.Fatal(err)
	}
	return host
}

// settle polls monitor until it is no longer pending.
func settle(t testing.TB, a agents.Agent, req agents.Request) agents.Result {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := a.Monitor(context.Background(), req)
		if r.Status != agents.StatusPending || time.Now().After(deadline) {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnitLifecycle: start over D-Bus, monitor, the Restart=no drop-in,
// SIGKILL of the main PID seen by Watch and by monitor, stop. It runs for
// Debian's haproxy.service (when installed) and for a plain sleep service;
// both have Restart=always, which the drop-in must override.
func TestUnitLifecycle(t *testing.T) {
	b := newBed(t)
	units := []string{"pacer-sleep"}
	if b.unit == "haproxy" {
		units = append(units, "haproxy")
	}
	for _, u := range units {
		t.Run(u, func(t *testing.T) { testLifecycle(t, b, u) })
	}
}

func testLifecycle(t *testing.T, b *bed, unit string) {
	a := b.m.Agent(unit).(*Agent)
	ctx := context.Background()
	req := agents.Request{Resource: "web", Timeout: 30 * time.Second}

	must(t, "probe", a.Monitor(ctx, req), agents.NotRunning)
	must(t, "validate", a.Validate(ctx, req), agents.OK)
	must(t, "start", a.Start(ctx, req), agents.OK)
	dropIn := dropInPath(b.node.RuntimeUnitDir(), a.unit)
	if body, err := os.ReadFile(dropIn); err != nil || !strings.Contains(string(body), "Restart=no") {
		t.Fatalf("drop-in %s: %v %q", dropIn, err, body)
	}
	if out, err := b.node.Systemctl("show", "-p", "Restart", a.unit); err != nil || strings.TrimSpace(out) != "Restart=no" {
		t.Fatalf("systemd does not see the drop-in: %q %v", out, err)
	}
	req.Interval = 60 * time.Second
	must(t, "monitor", a.Monitor(ctx, req), agents.OK)
	must(t, "start again", a.Start(ctx, req), agents.OK)
	if unit == "haproxy" {
		if got := b.httpGet(t); !strings.Contains(got, "haproxy ok") {
			t.Fatalf("haproxy started through D-Bus does not answer: %q", got)
		}
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := a.Watch(wctx, req)
	if err != nil {
		t.Fatal(err)
	}
	pid := b.mainPID(t, a)
	t0 := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill main PID %d: %v", pid, err)
	}
	select {
	case ev := <-events:
		if ev.Code != agents.NotRunning || ev.Resource != "web" {
			t.Fatalf("event %+v", ev)
		}
		t.Logf("SIGKILL of %s (host pid %d) reported after %s: %s", a.unit, pid, ev.At.Sub(t0), ev.Reason)
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event within 5s of SIGKILL")
	}
	r := settle(t, a, req)
	must(t, "monitor after kill", r, agents.NotRunning)
	// Restart=no: systemd must not bring it back behind our back.
	time.Sleep(500 * time.Millisecond)
	must(t, "monitor 0.5s after kill", a.Monitor(ctx, req), agents.NotRunning)

	must(t, "stop", a.Stop(ctx, req), agents.OK)
	if _, err := os.Stat(dropIn); !os.IsNotExist(err) {
		t.Errorf("drop-in left after stop: %v", err)
	}
	if out, _ := b.node.Systemctl("is-active", a.unit); strings.TrimSpace(out) != "inactive" {
		t.Errorf("after stop the unit is %q, want inactive", strings.TrimSpace(out))
	}
	select {
	case ev := <-events:
		t.Errorf("event after our own stop: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
	must(t, "stop again", a.Stop(ctx, req), agents.OK)

	// Start after a crash works (failed state and start limit reset), and
	// the watch reports the recovery.
	must(t, "restart", a.Start(ctx, req), agents.OK)
	must(t, "final stop", a.Stop(ctx, req), agents.OK)
	cancel()
	for range events {
	}
}

func (b *bed) httpGet(t testing.TB) string {
	t.Helper()
	var conn net.Conn
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := b.node.InNetNS(func() error {
			var err error
			conn, err = net.DialTimeout("tcp", "127.0.0.1:8080", time.Second)
			return err
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect to haproxy in the node: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: node\r\n\r\n")
	var sb strings.Builder
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		sb.WriteString(sc.Text() + "\n")
	}
	return sb.String()
}

func TestMissingUnit(t *testing.T) {
	b := newBed(t)
	a := b.m.Agent("no-such-thing")
	ctx := context.Background()
	req := agents.Request{Resource: "x", Timeout: 10 * time.Second}
	must(t, "validate", a.Validate(ctx, req), agents.ErrNotInstalled)
	must(t, "start", a.Start(ctx, req), agents.ErrNotInstalled)
	must(t, "monitor", a.Monitor(ctx, req), agents.NotRunning)
	must(t, "stop", a.Stop(ctx, req), agents.OK)
	list, err := b.m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range list {
		found = found || n.Type == "pacer-sleep"
	}
	if !found {
		t.Errorf("List lacks pacer-sleep: %v", list)
	}
	md, err := b.m.Agent("pacer-sleep").MetaData(ctx)
	if err != nil || md.LongDesc != "pacer test bed sleeper" {
		t.Errorf("metadata %+v %v", md, err)
	}
}

func TestUnitName(t *testing.T) {
	for in, want := range map[string]string{"haproxy": "haproxy.service", "x.socket": "x.socket",
		"getty@tty1": "getty@tty1.service", "a.service": "a.service"} {
		if got := UnitName(in); got != want {
			t.Errorf("UnitName(%q) = %q, want %q", in, got, want)
		}
	}
	if s := string(dropIn("a.socket")); strings.Contains(s, "Restart") {
		t.Errorf("socket drop-in sets Restart: %s", s)
	}
}

func TestKeepDropIn(t *testing.T) {
	b := newBed(t)
	m := New(Options{Dial: b.node.DialBus, DropInDir: b.node.RuntimeUnitDir(), KeepDropIn: true})
	defer m.Close()
	a := m.Agent("pacer-sleep").(*Agent)
	ctx, req := context.Background(), agents.Request{Resource: "s", Timeout: 30 * time.Second}
	must(t, "start", a.Start(ctx, req), agents.OK)
	must(t, "stop", a.Stop(ctx, req), agents.OK)
	if _, err := os.Stat(dropInPath(b.node.RuntimeUnitDir(), a.unit)); err != nil {
		t.Fatalf("drop-in not kept: %v", err)
	}
	if out, _ := b.node.Systemctl("is-active", a.unit); strings.TrimSpace(out) != "inactive" {
		t.Errorf("after stop: %q", out)
	}
}

func TestUnitFromPath(t *testing.T) {
	for p, want := range map[string]string{
		"/org/freedesktop/systemd1/unit/haproxy_2eservice":       "haproxy.service",
		"/org/freedesktop/systemd1/unit/getty_40tty1_2eservice":  "getty@tty1.service",
		"/org/freedesktop/systemd1/unit/pacer_2dsleep_2eservice": "pacer-sleep.service",
		"/org/freedesktop/systemd1/unit/_31x_2eservice":          "1x.service",
	} {
		if got := unitFromPath(dbus.ObjectPath(p)); got != want {
			t.Errorf("unitFromPath(%s) = %q, want %q", p, got, want)
		}
	}
}

// TestWatchEndsWhenSystemdGoes: when the connection to systemd is lost the
// watch channel closes, so the executor falls back to its monitor.
func TestWatchEndsWhenSystemdGoes(t *testing.T) {
	b := newBed(t)
	a := b.m.Agent("pacer-sleep")
	ctx, req := context.Background(), agents.Request{Resource: "s", Timeout: 30 * time.Second}
	must(t, "start", a.Start(ctx, req), agents.OK)
	events, err := a.(*Agent).Watch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.node.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel still open 10s after systemd died")
		}
	}
}
