package membership

import (
	"strings"
	"testing"
)

func TestMetaRoundTrip(t *testing.T) {
	for _, leaving := range []bool{false, true} {
		m := Meta{Name: "n1", RaftAddr: "10.0.0.1:7000", APIAddr: "10.0.0.1:7443", Version: "1.2.3", Role: RoleWitness}
		b, err := encodeMeta(m, leaving)
		if err != nil {
			t.Fatal(err)
		}
		got, gotLeaving, err := decodeMeta(b)
		if err != nil || got != m || gotLeaving != leaving {
			t.Errorf("decode(encode(%+v, %v)) = %+v, %v, %v", m, leaving, got, gotLeaving, err)
		}
	}
	// Compact: a typical meta is far below memberlist's 512-byte limit.
	b, _ := encodeMeta(Meta{Name: "server1.example.com", RaftAddr: "172.25.22.11:7000", APIAddr: "172.25.22.11:7443", Version: "v0.1.0"}, false)
	if len(b) > 160 {
		t.Errorf("typical meta is %d bytes: %s", len(b), b)
	}
}

func TestEncodeMetaRefuses(t *testing.T) {
	for name, m := range map[string]Meta{
		"no name":  {RaftAddr: "x"},
		"bad role": {Name: "n", Role: "king"},
		"too big":  {Name: "n", Version: strings.Repeat("v", MetaMaxSize)},
		// Fits in 512 bytes, but not with the leave flag added.
		"no room to leave": {Name: "n", Version: strings.Repeat("v", MetaMaxSize-54)}, // 502 bytes,
	} {
		if _, err := encodeMeta(m, false); err == nil {
			t.Errorf("%s: encodeMeta accepted %+v", name, m)
		}
	}
}

func TestDecodeBadMeta(t *testing.T) {
	for _, in := range []string{
		"", "null", "[]", "42", `"name"`, "{", `{"name": 5}`, `{"name":"a"} trailing`,
		"\xff\xfe", strings.Repeat(" ", MetaMaxSize+1),
	} {
		if m, _, err := decodeMeta([]byte(in)); err == nil {
			t.Errorf("decodeMeta(%q) = %+v, want an error", in, m)
		}
	}
	// Unknown fields are a newer version, not an error.
	m, _, err := decodeMeta([]byte(`{"name":"n","raft":"r","future":{"x":1}}`))
	if err != nil || m.Name != "n" || m.RaftAddr != "r" {
		t.Errorf("got %+v, %v", m, err)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	good, _ := encodeMeta(Meta{Name: "n1", RaftAddr: "a:1", APIAddr: "a:2", Version: "v", Role: RoleWitness}, true)
	for _, s := range []string{string(good), "", "{}", "null", `{"name":"\u00e9\ud800"}`, "\x00{", `{"leaving":"yes"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, leaving, err := decodeMeta(b) // must not panic
		if err != nil {
			if m != (Meta{}) || leaving {
				t.Fatalf("error %v with non-empty result %+v", err, m)
			}
			return
		}
		// Whatever decodes re-encodes to the same thing, when it is
		// something we would send ourselves.
		enc, err := encodeMeta(m, leaving)
		if err != nil {
			return // e.g. empty name, unknown role, grown past the limit
		}
		m2, leaving2, err := decodeMeta(enc)
		if err != nil || m2 != m || leaving2 != leaving {
			t.Fatalf("round trip of %+v: %+v, %v, %v", m, m2, leaving2, err)
		}
	})
}
