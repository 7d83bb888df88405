package builtin

import (
	"errors"
	"testing"

	"pacer/agents"
	"pacer/agents/dummy"
	"pacer/agents/ipaddr2"
	"pacer/agents/ocf"
	"pacer/agents/systemd"
	"pacer/crm/cib"
)

func resolve(t *testing.T, s *Set, name string, meta map[string]string) agents.Agent {
	t.Helper()
	n, err := cib.ParseAgent(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Resolve(n, meta)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

func TestWiring(t *testing.T) {
	// An empty OCF root: no script installed.
	s := New(Config{OCF: ocf.Options{Root: t.TempDir()}, Dummy: dummy.Options{StateDir: t.TempDir()}})
	defer s.Close()
	if _, ok := resolve(t, s, "IPaddr2", nil).(*ipaddr2.Agent); !ok {
		t.Error("IPaddr2 is not the native agent")
	}
	if _, ok := resolve(t, s, "ocf:heartbeat:IPaddr2", map[string]string{agents.MetaImplementation: "script"}).(*ocf.Agent); !ok {
		t.Error("IPaddr2 with implementation=script is not the script")
	}
	d, ok := resolve(t, s, "ocf:pacemaker:Dummy", nil).(*dummy.Agent)
	if !ok || d.Name().String() != "ocf:pacemaker:Dummy" {
		t.Errorf("Dummy without the script: %T", d)
	}
	if _, ok := resolve(t, s, "systemd:haproxy", nil).(*systemd.Agent); !ok {
		t.Error("systemd:haproxy is not the systemd agent")
	}
	if _, err := s.Resolve(cib.AgentName{Class: "lsb", Type: "x"}, nil); !errors.Is(err, agents.ErrUnsupportedClass) {
		t.Errorf("lsb: %v", err)
	}
}

func TestRealScriptsPreferredForDummy(t *testing.T) {
	s := New(Config{NoSystemd: true})
	defer s.Close()
	if !s.Scripts.Installed("heartbeat", "Dummy") {
		t.Skip("needs Debian package resource-agents (ocf:heartbeat:Dummy not installed)")
	}
	if _, ok := resolve(t, s, "ocf:heartbeat:Dummy", nil).(*ocf.Agent); !ok {
		t.Error("installed Dummy script not used")
	}
	if _, err := s.Resolve(cib.AgentName{Class: "systemd", Type: "x"}, nil); !errors.Is(err, agents.ErrUnsupportedClass) {
		t.Errorf("systemd with NoSystemd: %v", err)
	}
}

func TestNativeDummyOption(t *testing.T) {
	s := New(Config{NoSystemd: true, NativeDummy: true, Dummy: dummy.Options{StateDir: t.TempDir()}})
	defer s.Close()
	if _, ok := resolve(t, s, "ocf:heartbeat:Dummy", nil).(*dummy.Agent); !ok {
		t.Error("NativeDummy: not the native agent")
	}
	if _, ok := resolve(t, s, "ocf:heartbeat:Dummy", map[string]string{agents.MetaImplementation: "script"}).(*ocf.Agent); !ok {
		t.Error("NativeDummy with implementation=script: not the script")
	}
}
