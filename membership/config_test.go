package membership

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestNewRefusesBadConfig(t *testing.T) {
	ok := Config{Meta: metaFor("n1"), BindAddr: "127.0.0.1", Key: testKey}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no key", func(c *Config) { c.Key = nil }, "membership: a cluster key is required"},
		{"short key", func(c *Config) { c.Key = []byte("short") }, "must be 16, 24 or 32 bytes"},
		{"no name", func(c *Config) { c.Meta.Name = "" }, "Meta.Name is required"},
		{"unknown profile", func(c *Config) { c.Profile = "wan" }, `unknown profile "wan"`},
		{"meta too big", func(c *Config) { c.Meta.Version = strings.Repeat("x", 600) }, "memberlist's limit of 512"},
		{"bad port", func(c *Config) { c.BindPort = 70000 }, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			m, err := New(c)
			if err == nil {
				m.Shutdown()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	key := append([]byte(nil), testKey...)
	c, err := Config{Meta: metaFor("n1"), Key: key}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.BindAddr != "0.0.0.0" || c.BindPort != 0 || c.Profile != ProfileFast ||
		c.EventBuffer != 256 || c.Clock == nil || c.Logger == nil {
		t.Errorf("defaults: %+v", c)
	}
	key[0] ^= 0xff
	if c.Key[0] == key[0] {
		t.Error("the key was not copied")
	}
}

func TestProfiles(t *testing.T) {
	fast, err := TimingFor(ProfileFast)
	if err != nil {
		t.Fatal(err)
	}
	want := Timing{
		ProbeInterval: 100 * time.Millisecond, ProbeTimeout: 50 * time.Millisecond,
		SuspicionMult: 3, SuspicionMaxTimeoutMult: 6, GossipInterval: 50 * time.Millisecond,
		PushPullInterval: 5 * time.Second, TCPTimeout: 3 * time.Second,
	}
	if fast != want {
		t.Errorf("lan-fast = %+v, want %+v", fast, want)
	}
	if def, _ := TimingFor(""); def != fast {
		t.Errorf(`TimingFor("") = %+v, want lan-fast`, def)
	}
	// 3 nodes: suspect for 3 × 1 × 100 ms before down, once a second
	// member confirms.
	if got := fast.SuspicionTimeout(3); got != 300*time.Millisecond {
		t.Errorf("SuspicionTimeout(3) = %v", got)
	}

	// lan is memberlist's LAN default, untouched.
	lan, err := MemberlistConfig(ProfileLAN)
	if err != nil {
		t.Fatal(err)
	}
	def := memberlist.DefaultLANConfig()
	if lan.ProbeInterval != def.ProbeInterval || lan.ProbeTimeout != def.ProbeTimeout ||
		lan.SuspicionMult != def.SuspicionMult || lan.GossipInterval != def.GossipInterval ||
		lan.PushPullInterval != def.PushPullInterval || lan.TCPTimeout != def.TCPTimeout {
		t.Errorf("lan differs from DefaultLANConfig: %+v", lan)
	}

	mc, _ := MemberlistConfig(ProfileFast)
	if mc.ProbeInterval != fast.ProbeInterval || mc.GossipInterval != fast.GossipInterval ||
		mc.PushPullInterval != fast.PushPullInterval || mc.TCPTimeout != fast.TCPTimeout {
		t.Errorf("MemberlistConfig(lan-fast) does not carry the timings: %+v", mc)
	}
	if _, err := MemberlistConfig("bogus"); err == nil {
		t.Error("MemberlistConfig accepted an unknown profile")
	}
}

func TestStateAndEventNames(t *testing.T) {
	for s, want := range map[State]string{StateAlive: "alive", StateSuspect: "suspect", StateDead: "dead", StateLeft: "left", 0: "State(0)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s, want)
		}
	}
	for e, want := range map[EventType]string{EventUp: "up", EventSuspect: "suspect", EventDown: "down", EventUpdated: "updated", 9: "EventType(9)"} {
		if e.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(e), e, want)
		}
	}
	var s State
	if err := s.UnmarshalText([]byte("left")); err != nil || s != StateLeft {
		t.Errorf("UnmarshalText(left) = %v, %v", s, err)
	}
	var e EventType
	if err := e.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText(nope) succeeded")
	}
}
