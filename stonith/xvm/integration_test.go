package xvm_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"pacer/stonith"
	"pacer/stonith/external"
	"pacer/stonith/internal/testbed"
	"pacer/stonith/xvm"
)

// TestRealFenceVirtd fences LXC domains through Debian's real fence_virtd
// (multicast listener and tcp listener) with our client, and checks the
// effect with virsh and by the domain's processes disappearing.
func TestRealFenceVirtd(t *testing.T) {
	bed := testbed.Start(t, testbed.Options{Nodes: 2, FenceVirtd: true, XVMTCP: true})
	lo := netip.MustParseAddr("127.0.0.1")
	newDev := func(cfg xvm.Config) *xvm.Device {
		if cfg.Key == nil {
			cfg.Key = bed.Key
		}
		if cfg.Retransmit == 0 {
			cfg.Retransmit = 500 * time.Millisecond
		}
		if cfg.Timeout == 0 {
			cfg.Timeout = 15 * time.Second
		}
		d, err := xvm.NewDevice(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	dev := newDev(xvm.Config{CallbackAddr: lo})
	ctx := context.Background()
	run := func(name string, fn func() error) {
		t.Helper()
		if err := bed.Do(fn); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, bed.Logs())
		}
	}

	run("list", func() error {
		list, err := dev.List(ctx)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].Name != "node1" || list[1].Name != "node2" || list[0].State != stonith.PowerOn {
			return fmt.Errorf("list = %+v", list)
		}
		for _, l := range list {
			uuid, _ := bed.Virsh("domuuid", l.Name)
			if l.UUID != uuid {
				return fmt.Errorf("%s: uuid %q, virsh says %q", l.Name, l.UUID, uuid)
			}
		}
		return dev.Monitor(ctx)
	})

	// off: measured from the request to fence_virtd's confirmation, and
	// to the moment the last process of the domain is gone.
	cycles := 3
	if n, err := strconv.Atoi(os.Getenv("PACER_FENCE_CYCLES")); err == nil && n > 0 {
		cycles = n
	}
	var confirm, dead []time.Duration
	for i := 0; i < cycles; i++ {
		if err := bed.WaitNode("node1", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		before := bed.NodePIDs("node1")
		run("off", func() error {
			start := time.Now()
			res, err := dev.Fence(ctx, "node1", stonith.ActionOff)
			if err != nil {
				return err
			}
			confirm = append(confirm, res.Duration)
			for len(alive(before)) > 0 {
				if time.Since(start) > 10*time.Second {
					return fmt.Errorf("processes %v of node1 still alive 10 s after off", alive(before))
				}
				time.Sleep(2 * time.Millisecond)
			}
			dead = append(dead, time.Since(start))
			st, err := dev.Status(ctx, "node1")
			if err != nil || st != stonith.PowerOff {
				return fmt.Errorf("status after off = %v, %v", st, err)
			}
			return nil
		})
		if s, _ := bed.Virsh("domstate", "node1", "--reason"); s != "shut off (destroyed)" {
			t.Fatalf("virsh domstate after off: %q", s)
		}
		if p := bed.NodePIDs("node1"); len(p) != 0 {
			t.Fatalf("node1 processes left after off: %v", p)
		}
		run("on", func() error {
			if _, err := dev.Fence(ctx, "node1", stonith.ActionOn); err != nil {
				return err
			}
			if st, err := dev.Status(ctx, "node1"); err != nil || st != stonith.PowerOn {
				return fmt.Errorf("status after on = %v, %v", st, err)
			}
			return nil
		})
		if s, _ := bed.Virsh("domstate", "node1"); s != "running" {
			t.Fatalf("virsh domstate after on: %q", s)
		}
	}
	t.Logf("fence_xvm off via fence_virtd, request -> confirmed: %s", testbed.Stats(confirm))
	t.Logf("fence_xvm off via fence_virtd, request -> last process of the domain gone: %s", testbed.Stats(dead))
	var lists []time.Duration
	run("list latency", func() error {
		for i := 0; i < cycles; i++ {
			start := time.Now()
			if _, err := dev.List(ctx); err != nil {
				return err
			}
			lists = append(lists, time.Since(start))
		}
		return nil
	})
	t.Logf("fence_xvm list via fence_virtd: %s", testbed.Stats(lists))

	run("reboot", func() error {
		before := bed.NodePIDs("node2")
		res, err := dev.Fence(ctx, "node2", stonith.ActionReboot)
		if err != nil {
			return err
		}
		if len(alive(before)) != 0 {
			return fmt.Errorf("old node2 processes %v survived the reboot", alive(before))
		}
		if err := bed.WaitNode("node2", 10*time.Second); err != nil {
			return fmt.Errorf("after reboot: %w", err)
		}
		t.Logf("reboot node2: %v", res.Duration)
		return nil
	})

	run("unknown domain, uuid, stronger hash", func() error {
		if _, err := dev.Fence(ctx, "nosuch", stonith.ActionOff); !errors.Is(err, stonith.ErrFailed) {
			return fmt.Errorf("off nosuch: %v", err)
		}
		if st, err := dev.Status(ctx, "nosuch"); err != nil || st != stonith.PowerOff {
			return fmt.Errorf("status nosuch = %v, %v (fence_virtd says off)", st, err)
		}
		uuid, _ := bed.Virsh("domuuid", "node2")
		byUUID := newDev(xvm.Config{CallbackAddr: lo})
		byUUID.UseUUID = true
		if st, err := byUUID.Status(ctx, uuid); err != nil || st != stonith.PowerOn {
			return fmt.Errorf("status by uuid = %v, %v", st, err)
		}
		strong := newDev(xvm.Config{CallbackAddr: lo, Hash: xvm.HashSHA512})
		return strong.Monitor(ctx)
	})

	run("wrong key", func() error {
		wrong := newDev(xvm.Config{CallbackAddr: lo, Key: []byte("not the key"), Timeout: 2 * time.Second})
		_, err := wrong.Fence(ctx, "node2", stonith.ActionOff)
		if !errors.Is(err, stonith.ErrNoAnswer) {
			return fmt.Errorf("wrong key: %v", err)
		}
		t.Logf("wrong key: %v", err)
		return nil
	})
	if !strings.Contains(bed.Log("fence_virtd.log"), "Key mismatch") {
		t.Errorf("fence_virtd did not log the key mismatch:\n%s", bed.Log("fence_virtd.log"))
	}
	run("weak hash, wrong auth hash", func() error {
		weak := newDev(xvm.Config{CallbackAddr: lo, Hash: xvm.HashSHA1, Timeout: time.Second})
		if err := weak.Monitor(ctx); !errors.Is(err, stonith.ErrNoAnswer) {
			return fmt.Errorf("sha1 request against a sha256 daemon: %v", err)
		}
		auth := newDev(xvm.Config{CallbackAddr: lo, Auth: xvm.HashSHA512})
		_, err := auth.Fence(ctx, "node2", stonith.ActionOff)
		if !errors.Is(err, stonith.ErrAuth) {
			return fmt.Errorf("wrong auth hash: %v", err)
		}
		t.Logf("wrong auth hash: %v", err)
		return nil
	})
	if s, _ := bed.Virsh("domstate", "node2"); s != "running" || len(bed.NodePIDs("node2")) == 0 {
		t.Fatalf("node2 was touched by refused requests: %q", s)
	}

	run("tcp listener", func() error {
		tcp := newDev(xvm.Config{Transport: xvm.TCP, Addr: testbed.XVMTCPAddr})
		if _, err := tcp.Fence(ctx, "node2", stonith.ActionOff); err != nil {
			return err
		}
		if st, err := tcp.Status(ctx, "node2"); err != nil || st != stonith.PowerOff {
			return fmt.Errorf("tcp status after off = %v, %v", st, err)
		}
		if _, err := tcp.Fence(ctx, "node2", stonith.ActionOn); err != nil {
			return err
		}
		wrong := newDev(xvm.Config{Transport: xvm.TCP, Addr: testbed.XVMTCPAddr, Key: []byte("nope"), Timeout: 2 * time.Second})
		if err := wrong.Monitor(ctx); err == nil {
			return errors.New("tcp listener accepted a wrong key")
		}
		return nil
	})

	// fence_virtd's multicast listener is bound to INADDR_ANY, so a
	// unicast datagram to the host reaches it too (for networks that drop
	// multicast).
	run("unicast", func() error {
		uni := newDev(xvm.Config{Addr: "127.0.0.1:1229"})
		if st, err := uni.Status(ctx, "node1"); err != nil || st != stonith.PowerOn {
			return fmt.Errorf("unicast status = %v, %v", st, err)
		}
		return nil
	})

	// Without a callback address the client does what fence_xvm does:
	// one datagram per local address (here only 127.0.0.1 on lo).
	run("default callback", func() error {
		return newDev(xvm.Config{}).Monitor(ctx)
	})

	// Cross-check with Debian's own fence_xvm run as an external agent
	// (forked from the namespace thread, so it runs in the bed's netns).
	if path, err := exec.LookPath("fence_xvm"); err == nil {
		run("fence_xvm agent", func() error {
			d := external.NewDevice(path, map[string]string{"key_file": bed.KeyFile, "timeout": "5"}, nil)
			list, err := d.List(ctx)
			if err != nil {
				return err
			}
			if len(list) != 2 || list[1].Name != "node2" || list[1].State != stonith.PowerOn {
				return fmt.Errorf("fence_xvm list: %+v", list)
			}
			if st, err := d.Status(ctx, "node2"); err != nil || st != stonith.PowerOn {
				return fmt.Errorf("fence_xvm status: %v %v", st, err)
			}
			return nil
		})
	}
}

func alive(pids []int) []int {
	var out []int
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X' {
			out = append(out, p)
		}
	}
	return out
}
