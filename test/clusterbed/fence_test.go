package clusterbed

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

const hostMap = "pcmk_host_map=node1:node1;node2:node2;node3:node3"

// fenceDevices are the three ways a pacer cluster on the bed fences a
// node: Debian's fence_virtd through pacer's fence_xvm client, libvirtd
// directly over its RPC protocol (TCP on br0), and pacer's fence-host in
// place of fence_virtd (on another port, so both can run).
func fenceDevices(b *Bed) []struct {
	id, agent string
	params    []string
} {
	return []struct {
		id, agent string
		params    []string
	}{
		{"vmfence", "fence_xvm", []string{"key_file=" + NodeKeyFile, hostMap}},
		{"virtfence", "fence_libvirt", []string{"uri=" + b.NodeURI, hostMap}},
		{"hostfence", "fence_xvm", []string{"key_file=" + NodeKeyFile, "ipport=" + strconv.Itoa(fenceHostPort), hostMap}},
	}
}

const fenceHostPort = 1239

// pcsOK runs pcsctl on node n and fails the test unless it exits 0.
func pcsOK(t testing.TB, n *Node, args ...string) string {
	t.Helper()
	out, errOut, code := n.Pcsctl(args...)
	if code != 0 {
		t.Fatalf("%s: pcsctl %s: exit %d\n%s%s", n.Name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestFence is issue 5 end to end: a 3-node pacer cluster whose nodes are
// LXC domains fences one of them through each device, checks that every
// process of the node is gone and that libvirt reports it shut off, that
// the fence history has it, powers it on again with 'stonith fence --on'
// and waits for it to rejoin. Then a device nobody answers fails within
// stonith-timeout and says why.
func TestFence(t *testing.T) {
	b := Up(t, Options{})
	if err := b.StartFenceHost(fenceHostPort); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dc, err := b.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := b.Node(dc)
	target, err := b.NotDC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DC %s fences %s", dc, target.Name)
	for _, d := range fenceDevices(b) {
		ok := t.Run(d.id, func(t *testing.T) {
			pcsOK(t, admin, append([]string{"stonith", "create", d.id, d.agent}, d.params...)...)
			defer pcsOK(t, admin, "stonith", "delete", d.id)
			out := pcsOK(t, admin, "stonith", "verify")
			t.Logf("verify:\n%s", out)
			off, on := fenceOffOn(t, b, admin, target, d.id)
			t.Logf("%s: off confirmed in %v, on + rejoin in %v", d.id, off.Round(time.Millisecond), on.Round(time.Millisecond))
		})
		if !ok {
			t.Fatalf("%s failed; not trying the other devices\n%s", d.id, b.Logs())
		}
	}
	t.Run("unreachable", func(t *testing.T) {
		// Nobody listens on this port: the request goes out, no
		// fence_virtd ever connects back.
		pcsOK(t, admin, "stonith", "create", "deadfence", "fence_xvm", "key_file="+NodeKeyFile, "ipport=1299", hostMap)
		defer pcsOK(t, admin, "stonith", "delete", "deadfence")
		pcsOK(t, admin, "property", "set", "stonith-timeout=3s")
		defer pcsOK(t, admin, "property", "set", "stonith-timeout=")
		before := target.Processes()
		t0 := time.Now()
		out, errOut, code := admin.Pcsctl("stonith", "fence", target.Name, "--off")
		took := time.Since(t0)
		t.Logf("fence through a dead device: exit %d after %v: %s%s", code, took.Round(time.Millisecond), out, errOut)
		if code == 0 {
			t.Fatal("fence through a device nobody answers succeeded")
		}
		if took > 10*time.Second {
			t.Errorf("took %v with stonith-timeout=3s", took)
		}
		if !strings.Contains(errOut, "225.0.0.12:1299") && !strings.Contains(errOut, "no reply") {
			t.Errorf("the error does not say why (no reply from 225.0.0.12:1299): %s", errOut)
		}
		if len(target.Processes()) < len(before) {
			t.Errorf("%s lost processes although the fence failed", target.Name)
		}
		hist := pcsOK(t, admin, "stonith", "history", target.Name)
		if !strings.Contains(hist, "deadfence") {
			t.Errorf("history does not record the failed attempt:\n%s", hist)
		}
	})
}

// fenceOffOn fences target off through device id (run from admin),
// checks it is really off, then powers it on and waits until it is back
// in the cluster. It returns how long the off and the on+rejoin took.
func fenceOffOn(t testing.TB, b *Bed, admin, target *Node, id string) (time.Duration, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := target.Processes()
	if len(before) < 3 {
		t.Fatalf("%s runs only %v before the fence", target.Name, before)
	}
	t0 := time.Now()
	out := pcsOK(t, admin, "stonith", "fence", target.Name, "--off")
	off := time.Since(t0)
	if !strings.Contains(out, id) {
		t.Errorf("fence output does not name device %s:\n%s", id, out)
	}
	for _, p := range before {
		if !zombie(p) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			t.Errorf("process %d (%s) of %s survived the fence", p, strings.ReplaceAll(string(cmd), "\x00", " "), target.Name)
		}
	}
	if left := target.Processes(); len(left) > 0 {
		t.Errorf("%s still has processes %v", target.Name, left)
	}
	if st, err := target.DomainState(ctx); err != nil || st != "shutoff" {
		t.Errorf("libvirt says %s is %q (%v), want shutoff", target.Name, st, err)
	}
	hist := fenceHistory(t, admin, target.Name)
	found := false
	for _, h := range hist {
		found = found || (h.Device == id && h.Action == "off" && h.Result == "ok")
	}
	if !found {
		t.Errorf("fence history has no successful off of %s by %s: %+v", target.Name, id, hist)
	}
	t1 := time.Now()
	pcsOK(t, admin, "stonith", "fence", target.Name, "--on")
	if err := target.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitLeader(ctx); err != nil {
		t.Fatalf("%s did not rejoin: %v\n%s", target.Name, err, target.Log())
	}
	return off, time.Since(t1)
}
