package membership

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestThreeNodesSeeEachOther(t *testing.T) {
	nodes := startCluster(t, 3)
	for _, n := range nodes {
		members := n.Members()
		if len(members) != 3 {
			t.Fatalf("%s: %d members, want 3: %+v", n.name, len(members), members)
		}
		for i, mb := range members {
			want := metaFor(nodes[i].name)
			if mb.Meta != want {
				t.Errorf("%s sees %s with meta %+v, want %+v", n.name, mb.Name, mb.Meta, want)
			}
			if mb.Addr != nodes[i].Addr() {
				t.Errorf("%s sees %s at %s, want %s", n.name, mb.Name, mb.Addr, nodes[i].Addr())
			}
			if mb.State != StateAlive || mb.Since.IsZero() {
				t.Errorf("%s sees %s as %v since %v", n.name, mb.Name, mb.State, mb.Since)
			}
		}
		if me := n.Local(); me.Name != n.name || me.State != StateAlive {
			t.Errorf("%s: Local() = %+v", n.name, me)
		}
		// The first event is always our own EventUp.
		if evs := n.events(); len(evs) == 0 || evs[0].Type != EventUp || evs[0].Member.Name != n.name {
			t.Errorf("%s: first event is not our own up: %v", n.name, evs)
		}
	}
	if !strings.HasPrefix(nodes[0].Addr(), "127.0.0.1:") || strings.HasSuffix(nodes[0].Addr(), ":0") {
		t.Errorf("Addr() = %q, want 127.0.0.1 with the chosen port", nodes[0].Addr())
	}
}

func TestCrashGivesSuspectThenDown(t *testing.T) {
	nodes := startCluster(t, 3)
	crashed := nodes[2]
	if err := crashed.Shutdown(); err != nil { // no Leave: a crash to the others
		t.Fatal(err)
	}
	suspects := 0
	for _, n := range nodes[:2] {
		down := n.waitEvent(t, EventDown, crashed.name)
		if down.Member.State != StateDead {
			t.Errorf("%s: down event for %s has state %v, want dead", n.name, crashed.name, down.Member.State)
		}
		// A survivor reports suspect only if its own probe failed (doc.go);
		// the survivor whose probe started the suspicion always does.
		for _, ev := range n.events() {
			if ev.Member.Name != crashed.name || ev.Type == EventUp {
				continue
			}
			if ev.Type == EventSuspect {
				suspects++
				if ev.At.After(down.At) {
					t.Errorf("%s: suspect at %v after down at %v", n.name, ev.At, down.At)
				}
			}
			break
		}
		var got State
		for _, mb := range n.Members() {
			if mb.Name == crashed.name {
				got = mb.State
			}
		}
		if got != StateDead {
			t.Errorf("%s: Members() has %s as %v, want dead", n.name, crashed.name, got)
		}
	}
	if suspects == 0 {
		t.Errorf("no survivor reported %s suspect before down", crashed.name)
	}
}

func TestLeaveGivesStateLeft(t *testing.T) {
	nodes := startCluster(t, 3)
	leaver := nodes[2]
	if err := leaver.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[:2] {
		ev := n.waitEvent(t, EventDown, leaver.name)
		if ev.Member.State != StateLeft {
			t.Errorf("%s: down event for %s has state %v, want left", n.name, leaver.name, ev.Member.State)
		}
		// The leave flag is protocol, not a meta change.
		for _, ev := range n.events() {
			if ev.Type == EventUpdated && ev.Member.Name == leaver.name {
				t.Errorf("%s: leave produced an update event: %+v", n.name, ev)
			}
		}
	}
	if s := leaver.Local().State; s != StateLeft {
		t.Errorf("leaver sees itself as %v, want left", s)
	}
	if err := leaver.UpdateMeta(metaFor(leaver.name)); err == nil {
		t.Error("UpdateMeta after Leave succeeded")
	}
}

func TestUpdateMetaReachesPeers(t *testing.T) {
	nodes := startCluster(t, 3)
	meta := metaFor("n2")
	meta.APIAddr, meta.Version = "10.0.0.2:8443", "test2"
	if err := nodes[1].UpdateMeta(meta); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		ev := n.waitEvent(t, EventUpdated, "n2")
		if ev.Member.Meta != meta || ev.Member.State != StateAlive {
			t.Errorf("%s: update event carries %+v (%v), want %+v", n.name, ev.Member.Meta, ev.Member.State, meta)
		}
		if mb := n.Members()[1]; mb.Meta != meta {
			t.Errorf("%s: Members() has n2 with %+v", n.name, mb.Meta)
		}
	}
	meta.Name = "renamed"
	if err := nodes[1].UpdateMeta(meta); err == nil {
		t.Error("UpdateMeta accepted a new name")
	}
}

func TestWrongKeyCannotJoin(t *testing.T) {
	nodes := startCluster(t, 3)
	intruder := startNode(t, "intruder", otherKey)

	n, err := intruder.Join([]string{nodes[0].Addr()})
	if err == nil || n != 0 {
		t.Fatalf("Join with a wrong key = %d, %v; want an error", n, err)
	}
	if !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("errors.Is(err, ErrKeyMismatch) = false for %v", err)
	}
	for _, part := range []string{"gossip: could not join any of [" + nodes[0].Addr() + "]",
		"no installed keys could decrypt the message", "wrong cluster key", "check the key file"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	// The receiver names the problem in its log, and so does the joiner.
	if _, ok := nodes[0].logs.find("WARN", "could not be decrypted: the sender uses a different cluster key"); !ok {
		t.Errorf("n1 did not log the key mismatch")
	}
	if _, ok := intruder.logs.find("WARN", "could not join", "different cluster key"); !ok {
		t.Errorf("intruder did not log the key mismatch")
	}

	// Give gossip time to spread anything it might have let through.
	time.Sleep(time.Second)
	want := []string{"n1", "n2", "n3"}
	for _, n := range nodes {
		var names []string
		for _, mb := range n.Members() {
			names = append(names, mb.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s sees %v, want %v", n.name, names, want)
		}
	}
	if got := intruder.Members(); len(got) != 1 || got[0].Name != "intruder" {
		t.Errorf("intruder sees %+v, want only itself", got)
	}
}

func TestJoinUnreachableIsNotAKeyError(t *testing.T) {
	n := startNode(t, "lonely", testKey)
	other := startNode(t, "gone", testKey)
	addr := other.Addr()
	if err := other.Shutdown(); err != nil {
		t.Fatal(err)
	}
	_, err := n.Join([]string{addr})
	if err == nil {
		t.Fatal("Join to a stopped node succeeded")
	}
	if errors.Is(err, ErrKeyMismatch) || strings.Contains(err.Error(), "key") {
		t.Errorf("connection failure reported as a key problem: %v", err)
	}
	if _, err := n.Join(nil); err == nil {
		t.Error("Join(nil) succeeded")
	}
}

// rawMeta is a memberlist delegate that gossips arbitrary meta bytes, to play
// a peer with a broken meta.
type rawMeta []byte

func (r rawMeta) NodeMeta(int) []byte           { return r }
func (rawMeta) NotifyMsg([]byte)                {}
func (rawMeta) GetBroadcasts(int, int) [][]byte { return nil }
func (rawMeta) LocalState(bool) []byte          { return nil }
func (rawMeta) MergeRemoteState([]byte, bool)   {}

func TestPeerWithBadMetaIsKeptWithEmptyFields(t *testing.T) {
	n := startNode(t, "good", testKey)

	c := memberlist.DefaultLANConfig()
	c.Name, c.BindAddr, c.BindPort, c.AdvertisePort = "broken", "127.0.0.1", 0, 0
	c.SecretKey = testKey
	c.Delegate = rawMeta("\x00{not json")
	c.LogOutput = io.Discard
	bad, err := memberlist.Create(c)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Shutdown()
	if _, err := bad.Join([]string{n.Addr()}); err != nil {
		t.Fatal(err)
	}

	ev := n.waitEvent(t, EventUp, "broken")
	if want := (Meta{Name: "broken"}); ev.Member.Meta != want || ev.Member.State != StateAlive {
		t.Errorf("broken peer: %+v, want meta %+v and alive", ev.Member, want)
	}
	if _, ok := n.logs.find("ERROR", "could not be decoded", "member=broken"); !ok {
		t.Error("bad meta was not logged as an error")
	}
}

func TestShutdownIsIdempotentAndClosesEvents(t *testing.T) {
	n := startNode(t, "solo", testKey)
	for range 2 {
		if err := n.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-n.done: // the collector's range over Events ended
	case <-time.After(wait):
		t.Fatal("Events not closed by Shutdown")
	}
	if err := n.Leave(time.Second); err == nil {
		t.Error("Leave after Shutdown succeeded")
	}
	if _, err := n.Join([]string{"127.0.0.1:1"}); err == nil {
		t.Error("Join after Shutdown succeeded")
	}
}

func TestKeylessPeerIsRefused(t *testing.T) {
	n := startNode(t, "good", testKey)

	c := memberlist.DefaultLANConfig()
	c.Name, c.BindAddr, c.BindPort, c.AdvertisePort = "plain", "127.0.0.1", 0, 0
	c.LogOutput = io.Discard
	plain, err := memberlist.Create(c) // no SecretKey: gossips in clear
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Shutdown()

	if _, err := plain.Join([]string{n.Addr()}); err == nil {
		t.Error("a keyless peer joined an encrypted node")
	}
	if _, ok := n.logs.find("WARN", "was refused: it was not encrypted"); !ok {
		t.Error("the refused plaintext stream was not logged")
	}
	_, err = n.Join([]string{plain.LocalNode().Address()})
	if !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("joining a keyless peer: %v, want ErrKeyMismatch", err)
	}
	if got := n.Members(); len(got) != 1 {
		t.Errorf("members %+v, want only ourselves", got)
	}
}
