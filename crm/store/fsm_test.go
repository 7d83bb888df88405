package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"pacer/crm/cib"
)

// entry makes the raft log entry raft would hand the FSM for cmd.
func entry(t testing.TB, index uint64, cmd Command) *raft.Log {
	t.Helper()
	b, err := Encode(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: b}
}

// fsmFixture is a short command history touching every part of the
// configuration.
func fsmFixture() []Command {
	return []Command{
		&AddNode{Name: "node1"},
		&AddNode{Name: "node2"},
		&SetProperty{Name: "stonith-enabled", Value: "false"},
		&CreateResource{Primitive: cib.Primitive{
			ID: "vip", Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
			Params: map[string]string{"ip": "192.0.2.10"},
			Ops:    []cib.Op{{Name: "monitor", Interval: "10s"}},
		}, Group: "web"},
		&CreateResource{Primitive: cib.Primitive{ID: "haproxy", Class: "systemd", Type: "haproxy"}, Group: "web"},
		&AddConstraint{Location: &cib.Location{Resource: "web", Node: "node1", Score: "100"}},
		&SetNodeAttribute{Node: "node2", Name: "standby", Value: "on"},
		&SetDefault{Section_: "rsc", Name: "resource-stickiness", Value: "100"},
	}
}

func applyAll(t *testing.T, f *FSM, cmds []Command) {
	t.Helper()
	_, index := f.Read()
	for _, c := range cmds {
		index++
		switch r := f.Apply(entry(t, index, c)).(type) {
		case cib.Version:
		case error:
			t.Fatalf("%s refused: %v", c.Kind(), r)
		default:
			t.Fatalf("%s: response %T", c.Kind(), r)
		}
	}
}

func TestFSMApply(t *testing.T) {
	f := NewFSM(nil)
	signal, cancel := f.Subscribe()
	defer cancel()
	resp := f.Apply(entry(t, 1, &AddNode{Name: "node1"}))
	if v, ok := resp.(cib.Version); !ok || v != (cib.Version{Epoch: 1}) {
		t.Fatalf("response %#v, want version 0.1.0", resp)
	}
	c, index := f.Read()
	if index != 1 || c.Config.Node("node1") == nil || c.Version.Epoch != 1 {
		t.Fatalf("after apply: index %d, version %s, nodes %v", index, c.Version, c.Config.Nodes)
	}
	select {
	case <-signal:
	default:
		t.Fatal("no change signal after an accepted command")
	}
}

// A refused command changes nothing but still consumes its index, as it
// does on every node.
func TestFSMRejectedChangesNothing(t *testing.T) {
	f := NewFSM(nil)
	applyAll(t, f, fsmFixture())
	before, index := f.Read()
	frozen := before.Clone()
	signal, cancel := f.Subscribe()
	defer cancel()

	bad := []struct {
		name  string
		data  []byte
		check func(error) bool
	}{
		{"not found", entry(t, 0, &RemoveNode{Name: "ghost"}).Data, func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"exists", entry(t, 0, &AddNode{Name: "node1"}).Data, func(err error) bool { return errors.Is(err, ErrExists) }},
		{"invalid value", entry(t, 0, &SetProperty{Name: "no-quorum-policy", Value: "bogus"}).Data, func(err error) bool {
			var ve *cib.ValidationError
			return errors.As(err, &ve)
		}},
		{"newer format", []byte{9, '{', '}'}, func(err error) bool { return errors.Is(err, ErrUnknownCommand) }},
		{"unknown kind", []byte("\x01" + `{"kind":"future.thing","command":{}}`), func(err error) bool { return errors.Is(err, ErrUnknownCommand) }},
		{"garbage", []byte("\x01{"), func(err error) bool { return errors.Is(err, ErrInvalid) }},
		{"empty", nil, func(err error) bool { return errors.Is(err, ErrInvalid) }},
	}
	for _, b := range bad {
		index++
		resp := f.Apply(&raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: b.data})
		err, ok := resp.(error)
		if !ok || !b.check(err) {
			t.Errorf("%s: response %#v", b.name, resp)
		}
		after, got := f.Read()
		if after != before || got != index {
			t.Fatalf("%s: CIB pointer changed or index %d != %d", b.name, got, index)
		}
		if after.Version != frozen.Version || !reflect.DeepEqual(after, frozen) {
			t.Fatalf("%s: the CIB changed", b.name)
		}
	}
	select {
	case <-signal:
		t.Fatal("change signal after refused commands")
	default:
	}
	if n := f.undecodable.Load(); n != 4 {
		t.Fatalf("undecodable = %d, want 4", n)
	}
}

type panicCmd struct{}

func (*panicCmd) Kind() string           { return "test.panic" }
func (*panicCmd) Section() Section       { return SectionConfig }
func (*panicCmd) Apply(x *cib.CIB) error { x.Config.Nodes = nil; panic("boom") }

// A command that panics is refused, not fatal, and leaves no trace.
func TestSafeNextRecovers(t *testing.T) {
	cur := cib.New()
	cur.Config.Nodes = []cib.Node{{ID: "node1", Name: "n1"}}
	next, err := safeNext(slogDiscard(), cur, &panicCmd{})
	if next != nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("next %v, err %v", next, err)
	}
	if len(cur.Config.Nodes) != 1 {
		t.Fatal("the panicking command changed the current CIB")
	}
}

func TestFSMWaitIndex(t *testing.T) {
	f := NewFSM(nil)
	done := make(chan error, 1)
	go func() { done <- f.WaitIndex(context.Background(), 3) }()
	f.Apply(entry(t, 1, &AddNode{Name: "a"}))
	f.StoreConfiguration(2, raft.Configuration{}) // membership entries count
	f.Apply(entry(t, 3, &AddNode{Name: "a"}))     // refused, but applied
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.WaitIndex(ctx, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := f.WaitIndex(ctx, 3); err != nil {
		t.Fatalf("an index already applied: %v", err)
	}
	closed := make(chan struct{})
	close(closed)
	if err := f.waitIndex(context.Background(), 9, closed); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func TestFSMSubscribeCoalescesAndCancels(t *testing.T) {
	f := NewFSM(nil)
	ch, cancel := f.Subscribe()
	applyAll(t, f, fsmFixture())
	<-ch // many changes, one pending signal
	select {
	case <-ch:
		t.Fatal("signals were not coalesced")
	default:
	}
	cancel()
	cancel() // idempotent
	if _, ok := <-ch; ok {
		t.Fatal("channel open after cancel")
	}
	ch2, _ := f.Subscribe()
	f.closeSubscribers()
	if _, ok := <-ch2; ok {
		t.Fatal("channel open after close")
	}
	ch3, cancel3 := f.Subscribe()
	if _, ok := <-ch3; ok {
		t.Fatal("subscription after close is open")
	}
	cancel3()
}

// FuzzDecode: no input may panic the decoder or, once decoded, the
// command against an empty CIB (Next without safeNext's recover, so a
// panic in a command's Apply is found here rather than hidden).
func FuzzDecode(f *testing.F) {
	for _, c := range fsmFixture() {
		b, err := Encode(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte("\x01null"))
	f.Add([]byte("\x01" + `{"kind":"group.remove","command":null}`))
	f.Add([]byte("\x01" + `{"kind":"resource.delete","command":{"id":""}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(cmd)
		if err != nil {
			t.Fatalf("decoded %s does not encode: %v", cmd.Kind(), err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", cmd.Kind(), err)
		}
		base := cib.New()
		for _, c := range fsmFixture() {
			if n, err := Next(base, c); err == nil {
				base = n
			}
		}
		_, _ = Next(cib.New(), cmd)
		_, _ = Next(base, cmd)
	})
}
