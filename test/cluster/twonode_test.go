package cluster_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pacer/test/testbed"
)

// killAgent is a real external fence agent (the stdin key=value protocol)
// whose "power switch" is the target's pacerd process: off and reboot
// SIGKILL it and remove its native Dummy state files (what a powered-off
// node runs is gone), and log the request. It reads each node's pid and
// directory from files the test keeps current.
const killAgent = `#!/bin/sh
dir=$(dirname "$0")
while IFS='=' read -r k v; do
	case "$k" in
	action) action=$v;;
	port|plug) plug=$v;;
	esac
done
case "$action" in
metadata)
	cat <<'XML'
<?xml version="1.0" ?>
<resource-agent name="fence_testkill" shortdesc="Fence a test node by killing its pacerd">
<parameters>
<parameter name="port" unique="0" required="0"><getopt mixed="-n, --plug=[id]" /><content type="string" /><shortdesc lang="en">Node to fence</shortdesc></parameter>
</parameters>
<actions><action name="on" /><action name="off" /><action name="reboot" /><action name="status" /><action name="list" /><action name="monitor" /><action name="metadata" /></actions>
</resource-agent>
XML
	exit 0;;
list) cat "$dir/nodes"; exit 0;;
monitor) exit 0;;
esac
pid=$(cat "$dir/$plug.pid" 2>/dev/null)
case "$action" in
status)
	if [ "${pid:-0}" -gt 0 ] && kill -0 "$pid" 2>/dev/null; then echo "Status: ON"; exit 0; fi
	echo "Status: OFF"; exit 2;;
off|reboot)
	echo "$action $plug" >> "$dir/fenced.log"
	if [ "${pid:-0}" -gt 0 ]; then kill -9 "$pid" 2>/dev/null; fi
	rm -f "$(cat "$dir/$plug.dir")"/data/dummy/*.state
	exit 0;;
on) exit 0;;
esac
exit 1
`

// fenceBox is the killAgent's directory and what it reads.
type fenceBox struct{ dir string }

func newFenceBox(t *testing.T) fenceBox {
	t.Helper()
	b := fenceBox{dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(b.dir, "fence_testkill"), []byte(killAgent), 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b fenceBox) extra() string { return fmt.Sprintf("fence_agent_dirs = [%q]", b.dir) }

// track records a node's current pid and directory for the agent.
func (b fenceBox) track(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
		write := func(name, v string) {
			if err := os.WriteFile(filepath.Join(b.dir, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(n.Name+".pid", strconv.Itoa(n.PID()))
		write(n.Name+".dir", n.Dir)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "nodes"), []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b fenceBox) fenced() []string {
	x, _ := os.ReadFile(filepath.Join(b.dir, "fenced.log"))
	if len(strings.TrimSpace(string(x))) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(x)), "\n")
}

// waitFor polls cond every 50 ms until it holds or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s\n%s", d, what, describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A two-node cluster (the classic pair): the node that runs the group
// hangs; its peer, which loses the fence race, waits its delay, fences
// it through a real fence agent, becomes the only Raft voter and DC, and
// starts the group. The fenced node comes back, is added back as a voter
// and does not take the group back.
func TestTwoNodeSurvivorFencesAndTakesOver(t *testing.T) {
	box := newFenceBox(t)
	c, _ := startCluster(t, 2, box.extra())
	box.track(t, c)
	n := c.Nodes[0]
	run := func(nd *testbed.Node, args ...string) string { t.Helper(); return pcsOK(t, c, nd, args...) }
	run(n, "property", "set", "stonith-action=off")
	run(n, "stonith", "create", "killer", "fence_testkill", "pcmk_host_list=node1 node2")
	// Stickiness, as pcs sets by default: without it a returning node
	// with fewer resources would draw the group back.
	run(n, "resource", "create", "web", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "resource-stickiness=100", "op", "monitor", "interval=1s", "--wait=30s")
	on := activeOn(c, "web")
	if len(on) != 1 {
		t.Fatalf("web active on %v", on)
	}
	holder := c.Node(on[0])
	var peer *testbed.Node
	for _, nd := range c.Nodes {
		if nd != holder {
			peer = nd
		}
	}
	out := run(peer, "status")
	wantRace := fmt.Sprintf("Fence race: %s fences at once, %s waits 2s (%s runs more resources", holder.Name, peer.Name, holder.Name)
	if !strings.Contains(out, "Two-node mode (peer "+holder.Name+")") || !strings.Contains(out, wantRace) {
		t.Errorf("status on %s does not show the tie and its winner (%q):\n%s", peer.Name, wantRace, out)
	}

	// A hang: the process is there but answers nothing. Only a fence
	// makes it safe to start web elsewhere.
	lost := time.Now()
	holder.Freeze()
	waitFor(t, "web started on "+peer.Name, 30*time.Second, func() bool {
		got := activeOn(c, "web")
		return len(got) == 1 && got[0] == peer.Name
	}, func() string { o, _, _ := c.Pcsctl(peer, "status"); return o })
	t.Logf("hang of %s -> web on %s after %v", holder.Name, peer.Name, time.Since(lost).Round(time.Millisecond))
	if f := box.fenced(); len(f) != 1 || f[0] != "off "+holder.Name {
		t.Errorf("fence requests %v; want exactly one off of %s", f, holder.Name)
	}
	if holder.Running() {
		t.Errorf("%s still runs after its fence", holder.Name)
	}
	holder.Kill() // reap it
	q := run(peer, "quorum", "status")
	if !strings.Contains(q, "Quorate: yes (DC "+peer.Name+")") || !strings.Contains(q, "Voters: 1 ["+peer.Name+"]") {
		t.Errorf("quorum status after the takeover:\n%s", q)
	}
	if h := run(peer, "stonith", "history", holder.Name); !strings.Contains(h, "killer") {
		t.Errorf("fence history lacks the two-node fence:\n%s", h)
	}

	// Back from the fence: a voter again, and web stays where it is.
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	box.track(t, c)
	waitFor(t, "both voters again", 30*time.Second, func() bool {
		o, _, code := c.Pcsctl(peer, "quorum", "status")
		return code == 0 && strings.Contains(o, "Voters: 2")
	}, func() string { o, _, _ := c.Pcsctl(peer, "quorum", "status"); return o })
	run(peer, "resource", "create", "after", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--disabled")
	time.Sleep(2 * time.Second)
	if got := activeOn(c, "web"); len(got) != 1 || got[0] != peer.Name {
		t.Errorf("web on %v after %s returned; it should stay on %s", got, holder.Name, peer.Name)
	}
	if f := box.fenced(); len(f) != 1 {
		t.Errorf("more fencing after the return: %v", f)
	}
}

// wait-for-all: a node of a two-node cluster that starts alone does not
// take over, and says why, until an operator unblocks it; then it fences
// its peer before it runs anything.
func TestTwoNodeWaitForAll(t *testing.T) {
	box := newFenceBox(t)
	c, _ := startCluster(t, 2, box.extra())
	box.track(t, c)
	n1, n2 := c.Nodes[0], c.Nodes[1]
	for _, args := range [][]string{
		{"property", "set", "stonith-action=off"},
		{"stonith", "create", "killer", "fence_testkill", "pcmk_host_list=node1 node2"},
		{"resource", "create", "web", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--wait=30s"},
	} {
		pcsOK(t, c, n1, args...)
	}
	for _, nd := range []*testbed.Node{n2, n1} {
		if err := nd.Stop(30 * time.Second); err != nil {
			t.Fatalf("stop %s: %v", nd.Name, err)
		}
	}
	if err := n1.Start(); err != nil {
		t.Fatal(err)
	}
	box.track(t, c)
	var out string
	waitFor(t, "node1 blocked by wait-for-all", 20*time.Second, func() bool {
		out, _, _ = c.Pcsctl(n1, "quorum", "status")
		return strings.Contains(out, "Two-node state: blocked: wait-for-all")
	}, func() string { return out })
	time.Sleep(3 * time.Second) // longer than any fence race delay
	if f := box.fenced(); len(f) != 0 {
		t.Fatalf("a node that never saw its peer fenced it: %v", f)
	}
	if on := activeOn(c, "web"); len(on) != 0 {
		t.Fatalf("web runs on %v before the peer was seen", on)
	}
	if _, e, code := c.Pcsctl(n1, "quorum", "unblock"); code == 0 || !strings.Contains(e, "--force") {
		t.Errorf("unblock without --force: exit %d, %q", code, e)
	}
	if _, e, code := c.Pcsctl(n1, "quorum", "unblock", "--force"); code != 0 {
		t.Fatalf("unblock: %s", e)
	}
	waitFor(t, "web on node1 after the unblock", 30*time.Second, func() bool {
		on := activeOn(c, "web")
		return len(on) == 1 && on[0] == n1.Name
	}, func() string { o, _, _ := c.Pcsctl(n1, "status"); return o })
	if f := box.fenced(); len(f) != 1 || f[0] != "off "+n2.Name {
		t.Errorf("fence requests %v; want one off of %s before the takeover", f, n2.Name)
	}
}

// Two nodes and a witness: a real majority, so no two-node mode. The
// witness votes but is never listed, placed or probed; when the node
// running the resource dies, the other two elect a DC and recover it
// on the surviving node (fencing off here: the witness test is about
// votes).
func TestWitnessGivesMajority(t *testing.T) {
	c, _ := startClusterOpts(t, testbed.Options{Nodes: 3, Witness: "node3"})
	n := c.Nodes[0]
	run := func(nd *testbed.Node, args ...string) string { t.Helper(); return pcsOK(t, c, nd, args...) }
	run(n, "property", "set", "stonith-enabled=false")
	run(n, "resource", "create", "web", "ocf:pacemaker:Dummy", "meta", "agent-implementation=native", "--wait=30s")
	out := run(n, "status")
	if !strings.Contains(out, "Online: [ node1 node2 ]") || strings.Contains(out, "Two-node mode") || strings.Contains(out, "Offline") || strings.Contains(out, "OFFLINE") {
		t.Errorf("status with a witness: want node1 and node2 only, no two-node mode:\n%s", out)
	}
	if q := run(c.Nodes[2], "quorum", "status"); !strings.Contains(q, "Quorate: yes") || !strings.Contains(q, "Two-node mode: off") {
		t.Errorf("quorum status on the witness:\n%s", q)
	}
	on := activeOn(c, "web")
	if len(on) != 1 || on[0] == "node3" {
		t.Fatalf("web on %v", on)
	}
	victim := c.Node(on[0])
	other := c.Node(map[string]string{"node1": "node2", "node2": "node1"}[on[0]])
	victim.Kill()
	os.Remove(filepath.Join(victim.Dir, "data", "dummy", "Dummy-web.state"))
	waitFor(t, "web recovered on "+other.Name, 30*time.Second, func() bool {
		got := activeOn(c, "web")
		return len(got) == 1 && got[0] == other.Name
	}, func() string { o, _, _ := c.Pcsctl(other, "status"); return o })
	if q := run(other, "quorum", "status"); !strings.Contains(q, "Quorate: yes") {
		t.Errorf("quorum after losing %s:\n%s", victim.Name, q)
	}
}

// pcsOK runs pcsctl on nd and fails the test unless it exits 0.
func pcsOK(t *testing.T, c *testbed.Cluster, nd *testbed.Node, args ...string) string {
	t.Helper()
	out, errOut, code := c.Pcsctl(nd, args...)
	if code != 0 {
		t.Fatalf("pcsctl %s on %s: exit %d: %s", strings.Join(args, " "), nd.Name, code, errOut)
	}
	return out
}
