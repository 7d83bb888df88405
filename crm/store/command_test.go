package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"pacer/crm/cib"
)

// apply runs cmds in order through Next, failing the test on an error.
func apply(t *testing.T, x *cib.CIB, cmds ...Command) *cib.CIB {
	t.Helper()
	for _, c := range cmds {
		n, err := Next(x, c)
		if err != nil {
			t.Fatalf("%s: %v", c.Kind(), err)
		}
		x = n
	}
	return x
}

func dummy(id string) cib.Primitive {
	return cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy"}
}

func TestCommandsBuildCIB(t *testing.T) {
	x := apply(t, cib.New(),
		&AddNode{Name: "node1"}, &AddNode{Name: "node2"},
		&SetProperty{Name: "stonith-enabled", Value: "false"},
		&CreateResource{Primitive: dummy("a")},
		&CreateResource{Primitive: dummy("b"), Group: "g"},
		&CreateResource{Primitive: dummy("c"), Group: "g", Before: "b"},
		&GroupAdd{Group: "g", Members: []string{"a"}, After: "b"},
		&AddConstraint{Location: &cib.Location{Resource: "g", Node: "node1", Score: "INFINITY"}},
		&AddConstraint{Order: &cib.Order{First: "c", Then: "b"}},
		&SetNodeAttribute{Node: "node2", Name: "standby", Value: "on"},
		&UpdateResource{ID: "a", Params: map[string]string{"fake": "1"}, Meta: map[string]string{"target-role": "Stopped"}},
	)
	g := x.Config.Group("g")
	var ids []string
	for _, m := range g.Members {
		ids = append(ids, m.ID)
	}
	if !reflect.DeepEqual(ids, []string{"c", "b", "a"}) {
		t.Errorf("group order %v, want [c b a]", ids)
	}
	if len(x.Config.Resources) != 1 {
		t.Errorf("a should have moved into the group; top level = %d entries", len(x.Config.Resources))
	}
	if got := x.Config.Constraints.Locations[0].ID; got != "location-g-node1-INFINITY" {
		t.Errorf("location id %q", got)
	}
	if got := x.Config.Constraints.Orders[0].ID; got != "order-c-b-mandatory" {
		t.Errorf("order id %q", got)
	}
	if !x.Config.Node("node2").Standby() {
		t.Error("node2 not in standby")
	}
	if x.Version.Epoch != 11 || x.Version.NumUpdates != 0 {
		t.Errorf("version %s, want 0.11.0", x.Version)
	}
	// Deleting the group removes its members and the constraints naming them.
	x = apply(t, x, &DeleteResource{ID: "g"})
	if len(x.Config.Resources) != 0 || len(x.Config.Constraints.Locations) != 0 || len(x.Config.Constraints.Orders) != 0 {
		t.Errorf("delete left %v %v", x.Config.Resources, x.Config.Constraints)
	}
}

// A refused command leaves the CIB exactly as it was.
func TestRejectedCommandChangesNothing(t *testing.T) {
	x := apply(t, cib.New(), &AddNode{Name: "node1"}, &CreateResource{Primitive: dummy("a")})
	before := x.Clone()
	bad := []struct {
		cmd  Command
		want error
	}{
		{&CreateResource{Primitive: dummy("a")}, ErrExists},
		{&DeleteResource{ID: "nope"}, ErrNotFound},
		{&SetProperty{Name: "no-such", Value: "1"}, ErrInvalid},
		{&SetNodeAttribute{Node: "ghost", Name: "standby", Value: "on"}, ErrNotFound},
		{&AddConstraint{Colocation: &cib.Colocation{Resource: "a", WithResource: "missing", Score: "INFINITY"}}, nil},
		{&CreateResource{Primitive: cib.Primitive{ID: "b", Class: "ocf", Type: "Dummy"}}, nil},
		{&UpdateResource{ID: "a", Ops: []cib.Op{{Name: "monitor", Interval: "10x"}}}, nil},
		{&RemoveConstraint{IDs: []string{"x"}}, ErrNotFound},
		{&GroupAdd{Group: "g", Members: []string{"a", "zz"}}, ErrNotFound},
	}
	for _, b := range bad {
		_, err := Next(x, b.cmd)
		if err == nil {
			t.Errorf("%s accepted", b.cmd.Kind())
			continue
		}
		var ve *cib.ValidationError
		if b.want != nil && !errors.Is(err, b.want) {
			t.Errorf("%s: error %v, want %v", b.cmd.Kind(), err, b.want)
		} else if b.want == nil && !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want a validation error", b.cmd.Kind(), err)
		}
		if !reflect.DeepEqual(x, before) {
			t.Fatalf("%s changed the CIB", b.cmd.Kind())
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	cmds := []Command{
		&SetProperty{Name: "stonith-enabled", Value: "false"},
		&CreateResource{Primitive: cib.Primitive{ID: "vip", Class: "ocf", Provider: "heartbeat", Type: "IPaddr2", Params: map[string]string{"ip": "192.0.2.1"}, Ops: []cib.Op{{Name: "monitor", Interval: "10s"}}}, Group: "web"},
		&AddConstraint{Order: &cib.Order{First: "a", Then: "b"}},
		&RemoveConstraint{IDs: []string{"x", "y"}},
	}
	for _, c := range cmds {
		b, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("decode %s: %v", c.Kind(), err)
		}
		if !reflect.DeepEqual(c, d) {
			t.Errorf("round trip of %s: %#v != %#v", c.Kind(), d, c)
		}
	}
	for _, bad := range [][]byte{nil, {2, '{', '}'}, []byte("\x01{"), []byte(`` + "\x01" + `{"kind":"nope","command":{}}`), []byte("\x01" + `{"kind":"property.set","command":{"name":"a","bogus":1}}`)} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

// A batch is all or nothing: the valid first change is not kept when the
// second is refused.
func TestBatchIsAtomic(t *testing.T) {
	x := apply(t, cib.New(), &AddNode{Name: "node1"})
	b, err := NewBatch(&SetProperty{Name: "no-quorum-policy", Value: "freeze"}, &SetNodeAttribute{Node: "ghost", Name: "standby", Value: "on"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Next(x, b); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "none of the 2 changes was written") {
		t.Fatalf("batch error %v", err)
	}
	b, _ = NewBatch(&SetProperty{Name: "no-quorum-policy", Value: "freeze"}, &SetNodeAttribute{Node: "node1", Name: "standby", Value: "on"})
	y, err := Next(x, b)
	if err != nil {
		t.Fatal(err)
	}
	if y.Config.Properties["no-quorum-policy"] != "freeze" || !y.Config.Node("node1").Standby() || y.Version.Epoch != x.Version.Epoch+1 {
		t.Errorf("batch result %+v version %s", y.Config, y.Version)
	}
}
