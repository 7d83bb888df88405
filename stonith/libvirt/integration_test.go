package libvirt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"pacer/stonith"
	"pacer/stonith/internal/testbed"
	"pacer/stonith/libvirt"
)

// TestRealLibvirtd runs our RPC client and Device against Debian's real
// libvirtd: LXC domains (whose processes must die) over the unix socket
// and TCP, and the built-in test driver.
func TestRealLibvirtd(t *testing.T) {
	bed := testbed.Start(t, testbed.Options{Nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	target, err := libvirt.ParseURI(bed.LXCURI)
	if err != nil {
		t.Fatal(err)
	}
	c, err := libvirt.Connect(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if u, err := c.URI(ctx); err != nil || u != "lxc:///system" {
		t.Fatalf("URI = %q, %v", u, err)
	}
	doms, err := c.ListAll(ctx, 0)
	if err != nil || len(doms) != 2 {
		t.Fatalf("ListAll = %+v, %v", doms, err)
	}
	for _, d := range doms {
		uuid, _ := bed.Virsh("domuuid", d.Name)
		if d.UUID.String() != uuid || d.ID <= 0 {
			t.Fatalf("%s: uuid %v id %d, virsh says %s", d.Name, d.UUID, d.ID, uuid)
		}
		byUUID, err := c.LookupByUUID(ctx, d.UUID)
		if err != nil || byUUID != d {
			t.Fatalf("LookupByUUID(%v) = %+v, %v", d.UUID, byUUID, err)
		}
	}
	node1, err := c.LookupByName(ctx, "node1")
	if err != nil {
		t.Fatal(err)
	}
	if st, reason, err := c.State(ctx, node1); err != nil || st != libvirt.StateRunning || reason != 1 {
		t.Fatalf("State = %v/%d, %v", st, reason, err)
	}
	_, err = c.LookupByName(ctx, "nosuch")
	var le *libvirt.Error
	if !errors.As(err, &le) || le.Code != libvirt.ErrCodeNoDomain || !strings.Contains(le.Message, "'nosuch'") {
		t.Fatalf("lookup nosuch: %v", err)
	}
	t.Logf("libvirtd error surfaced: %v", err)

	// Destroy kills every process of the domain; libvirt says destroyed.
	before := bed.NodePIDs("node1")
	if err := c.Destroy(ctx, node1); err != nil {
		t.Fatal(err)
	}
	if st, reason, err := c.State(ctx, node1); err != nil || st != libvirt.StateShutoff || reason != libvirt.ReasonShutoffDestroyed {
		t.Fatalf("after destroy: %v/%d, %v", st, reason, err)
	}
	waitDead(t, before)
	if s, _ := bed.Virsh("domstate", "node1", "--reason"); s != "shut off (destroyed)" {
		t.Fatalf("virsh domstate: %q", s)
	}
	err = c.Destroy(ctx, node1)
	if !libvirt.IsCode(err, libvirt.ErrCodeOperationInvalid) || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("second destroy: %v", err)
	}
	if err := c.Create(ctx, node1); err != nil {
		t.Fatal(err)
	}
	if s, _ := bed.Virsh("domstate", "node1"); s != "running" {
		t.Fatalf("virsh domstate after create: %q", s)
	}
	if err := bed.WaitNode("node1", 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// The Device, over the unix socket: off measured to the death of the
	// last process.
	dev, err := libvirt.NewDevice(bed.LXCURI)
	if err != nil {
		t.Fatal(err)
	}
	cycles := 3
	if n, err := strconv.Atoi(os.Getenv("PACER_FENCE_CYCLES")); err == nil && n > 0 {
		cycles = n
	}
	var confirm, dead []time.Duration
	for i := 0; i < cycles; i++ {
		if err := bed.WaitNode("node2", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		before := bed.NodePIDs("node2")
		start := time.Now()
		res, err := dev.Fence(ctx, "node2", stonith.ActionOff)
		if err != nil || res.State != stonith.PowerOff {
			t.Fatalf("off: %+v, %v", res, err)
		}
		confirm = append(confirm, res.Duration)
		waitDead(t, before)
		dead = append(dead, time.Since(start))
		if st, err := dev.Status(ctx, "node2"); err != nil || st != stonith.PowerOff {
			t.Fatalf("status after off: %v, %v", st, err)
		}
		if _, err := dev.Fence(ctx, "node2", stonith.ActionOff); err != nil {
			t.Fatalf("off of an off domain must succeed: %v", err)
		}
		if _, err := dev.Fence(ctx, "node2", stonith.ActionOn); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("libvirt off (destroy), request -> confirmed shut off: %s", testbed.Stats(confirm))
	t.Logf("libvirt off (destroy), request -> last process of the domain gone: %s", testbed.Stats(dead))
	var lists []time.Duration
	for i := 0; i < cycles; i++ {
		start := time.Now()
		if _, err := dev.List(ctx); err != nil {
			t.Fatal(err)
		}
		lists = append(lists, time.Since(start))
	}
	t.Logf("libvirt list (connect, open, list, state per domain, close): %s", testbed.Stats(lists))
	if err := bed.WaitNode("node2", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	before = bed.NodePIDs("node2")
	uuid, _ := bed.Virsh("domuuid", "node2")
	if res, err := dev.Fence(ctx, uuid, stonith.ActionReboot); err != nil || res.State != stonith.PowerOn {
		t.Fatalf("reboot by uuid: %+v, %v", res, err)
	}
	waitDead(t, before)
	if err := bed.WaitNode("node2", 10*time.Second); err != nil {
		t.Fatalf("after reboot: %v", err)
	}
	if _, err := dev.Status(ctx, "nosuch"); !errors.Is(err, stonith.ErrNoSuchTarget) {
		t.Fatalf("status nosuch: %v", err)
	}
	if _, err := dev.Fence(ctx, "nosuch", stonith.ActionOff); !errors.Is(err, stonith.ErrNoSuchTarget) {
		t.Fatalf("off nosuch: %v", err)
	}
	if list, err := dev.List(ctx); err != nil || len(list) != 2 || list[0].State != stonith.PowerOn {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if err := dev.Monitor(ctx); err != nil {
		t.Fatal(err)
	}

	// The test driver: its state lives while a connection stays open.
	tt, _ := libvirt.ParseURI(bed.TestURI)
	hold, err := libvirt.Connect(ctx, tt)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	testDom, err := hold.LookupByName(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	tdev, _ := libvirt.NewDevice(bed.TestURI)
	if _, err := tdev.Fence(ctx, "test", stonith.ActionOff); err != nil {
		t.Fatal(err)
	}
	if st, _, err := hold.State(ctx, testDom); err != nil || st != libvirt.StateShutoff {
		t.Fatalf("test domain after off: %v, %v", st, err)
	}
	if _, err := tdev.Fence(ctx, "test", stonith.ActionReboot); err != nil {
		t.Fatal(err)
	}
	if st, _, err := hold.State(ctx, testDom); err != nil || st != libvirt.StateRunning {
		t.Fatalf("test domain after reboot: %v, %v", st, err)
	}

	// Over TCP, from inside the bed's network namespace.
	err = bed.Do(func() error {
		for _, uri := range []string{"lxc+tcp://" + testbed.LibvirtTCP + "/system", "test+tcp://" + testbed.LibvirtTCP + "/default"} {
			d, err := libvirt.NewDevice(uri)
			if err != nil {
				return err
			}
			plug := "node1"
			if strings.HasPrefix(uri, "test") {
				plug = "test"
			}
			if _, err := d.Fence(ctx, plug, stonith.ActionOff); err != nil {
				return err
			}
			if st, err := d.Status(ctx, plug); err != nil || st != stonith.PowerOff {
				return fmt.Errorf("%s: status after off: %v, %v", uri, st, err)
			}
			if _, err := d.Fence(ctx, plug, stonith.ActionOn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := bed.Virsh("domstate", "node1"); s != "running" {
		t.Fatalf("node1 after off/on over TCP: %q", s)
	}

	// An unreachable libvirtd fails fast and says where it looked.
	gone, _ := libvirt.NewDevice("lxc+unix:///system?socket=" + bed.Dir + "/nosuch-sock")
	if _, err := gone.Fence(ctx, "node1", stonith.ActionOff); !errors.Is(err, stonith.ErrNoAnswer) || !strings.Contains(err.Error(), "nosuch-sock") {
		t.Fatalf("unreachable: %v", err)
	}
}

func waitDead(t *testing.T, pids []int) {
	t.Helper()
	if len(pids) == 0 {
		t.Fatal("no processes to watch")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive []int
		for _, p := range pids {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
			if err != nil {
				continue
			}
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X' {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v still alive", alive)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
