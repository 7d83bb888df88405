package agents

import (
	"context"
	"errors"
	"testing"

	"pacer/crm/cib"
)

// fake is an Agent that only has a name and a label.
type fake struct {
	name  cib.AgentName
	label string
}

func (f *fake) Name() cib.AgentName                         { return f.name }
func (f *fake) MetaData(context.Context) (*MetaData, error) { return &MetaData{Name: f.name.Type}, nil }
func (f *fake) Validate(context.Context, Request) Result    { return Result{} }
func (f *fake) Start(context.Context, Request) Result       { return Result{} }
func (f *fake) Stop(context.Context, Request) Result        { return Result{} }
func (f *fake) Monitor(context.Context, Request) Result     { return Result{} }

type fakeScripts struct{ installed map[string]bool }

func (s fakeScripts) Agent(p, t string) Agent {
	return &fake{cib.AgentName{Class: "ocf", Provider: p, Type: t}, "script"}
}
func (s fakeScripts) Installed(p, t string) bool { return s.installed[p+":"+t] }
func (s fakeScripts) List(provider string) ([]cib.AgentName, error) {
	var out []cib.AgentName
	for k := range s.installed {
		p, t, _ := cut(k)
		if provider != "" && p != provider {
			continue
		}
		out = append(out, cib.AgentName{Class: "ocf", Provider: p, Type: t})
	}
	return out, nil
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

type fakeUnits struct{}

func (fakeUnits) Agent(u string) Agent {
	return &fake{cib.AgentName{Class: "systemd", Type: u}, "unit"}
}
func (fakeUnits) List(context.Context) ([]cib.AgentName, error) {
	return []cib.AgentName{{Class: "systemd", Type: "haproxy"}}, nil
}

func testRegistry(installed ...string) *Registry {
	inst := map[string]bool{}
	for _, i := range installed {
		inst[i] = true
	}
	ip := &fake{cib.AgentName{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}, "native"}
	hb := &fake{cib.AgentName{Class: "ocf", Provider: "heartbeat", Type: "Dummy"}, "native"}
	pm := &fake{cib.AgentName{Class: "ocf", Provider: "pacemaker", Type: "Dummy"}, "native"}
	return NewRegistry(RegistryConfig{Scripts: fakeScripts{inst}, Units: fakeUnits{},
		Natives: []Native{{Agent: ip}, {Agent: hb, Fallback: true}, {Agent: pm, Fallback: true}}})
}

func TestResolve(t *testing.T) {
	withDummy := testRegistry("heartbeat:IPaddr2", "heartbeat:Dummy", "pacemaker:Dummy", "heartbeat:apache")
	bare := testRegistry()
	cases := []struct {
		reg       *Registry
		name      string
		meta      map[string]string
		wantLabel string
		wantErr   error
	}{
		{withDummy, "ocf:heartbeat:IPaddr2", nil, "native", nil},
		{withDummy, "IPaddr2", nil, "native", nil},
		{withDummy, "ocf:heartbeat:IPaddr2", map[string]string{MetaImplementation: "script"}, "script", nil},
		{withDummy, "ocf:heartbeat:Dummy", nil, "script", nil},
		{withDummy, "ocf:pacemaker:Dummy", nil, "script", nil},
		{withDummy, "ocf:pacemaker:Dummy", map[string]string{MetaImplementation: "native"}, "native", nil},
		{bare, "ocf:heartbeat:Dummy", nil, "native", nil},
		{bare, "ocf:pacemaker:Dummy", nil, "native", nil},
		{bare, "Dummy", nil, "native", nil},
		{withDummy, "ocf:heartbeat:apache", nil, "script", nil},
		{bare, "ocf:heartbeat:apache", nil, "script", nil}, // runs and says "not installed"
		{withDummy, "ocf:heartbeat:apache", map[string]string{MetaImplementation: "native"}, "", ErrUnknownAgent},
		{withDummy, "ocf:heartbeat:IPaddr2", map[string]string{MetaImplementation: "bogus"}, "", ErrUnknownAgent},
		{withDummy, "systemd:haproxy", nil, "unit", nil},
		{withDummy, "service:haproxy", nil, "unit", nil},
		{withDummy, "lsb:network", nil, "", ErrUnsupportedClass},
		{withDummy, "stonith:fence_xvm", nil, "", ErrUnsupportedClass},
		{withDummy, "apache", nil, "", ErrUnknownAgent},
	}
	for _, c := range cases {
		name := parse(c.name)
		a, err := c.reg.Resolve(name, c.meta)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("%s %v: err %v, want %v", c.name, c.meta, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v: %v", c.name, c.meta, err)
			continue
		}
		if got := a.(*fake).label; got != c.wantLabel {
			t.Errorf("%s %v: resolved to %s, want %s", c.name, c.meta, got, c.wantLabel)
		}
	}
	prefer := NewRegistry(RegistryConfig{Scripts: fakeScripts{}, PreferScripts: []string{"ocf:heartbeat:IPaddr2"},
		Natives: []Native{{Agent: &fake{cib.AgentName{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}, "native"}}}})
	if a, err := prefer.Resolve(parse("ocf:heartbeat:IPaddr2"), nil); err != nil || a.(*fake).label != "script" {
		t.Errorf("PreferScripts: %v %v", a, err)
	}
	noUnits := NewRegistry(RegistryConfig{Scripts: fakeScripts{}})
	if _, err := noUnits.Resolve(parse("systemd:haproxy"), nil); !errors.Is(err, ErrUnsupportedClass) {
		t.Errorf("systemd without backend: %v", err)
	}
}

// parse splits a:b:c without the known-agents lookup of cib.ParseAgent.
func parse(s string) cib.AgentName {
	var parts []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ':' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	switch len(parts) {
	case 3:
		return cib.AgentName{Class: parts[0], Provider: parts[1], Type: parts[2]}
	case 2:
		return cib.AgentName{Class: parts[0], Type: parts[1]}
	}
	return cib.AgentName{Type: s}
}

func TestList(t *testing.T) {
	r := testRegistry("heartbeat:apache")
	all, err := r.List(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range all {
		names = append(names, a.String())
	}
	want := "ocf:heartbeat:Dummy ocf:heartbeat:IPaddr2 ocf:heartbeat:apache ocf:pacemaker:Dummy systemd:haproxy"
	if got := join(names); got != want {
		t.Errorf("List = %s\nwant   %s", got, want)
	}
	pm, _ := r.List(context.Background(), "ocf", "pacemaker")
	if len(pm) != 1 || pm[0].String() != "ocf:pacemaker:Dummy" {
		t.Errorf("ocf:pacemaker = %v", pm)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func TestCodesAndResults(t *testing.T) {
	if Normalize(42) != ErrGeneric || Normalize(7) != NotRunning || Normalize(190) != Degraded || Normalize(-1) != ErrGeneric {
		t.Error("Normalize")
	}
	if NotRunning.String() != "not running" || Code(77).String() != "unknown OCF code 77" {
		t.Error("Code.String")
	}
	r := Done(ErrNotConfigured, "ip %s missing", "x")
	if r.Succeeded() || r.Reason != "ip x missing" || r.String() != "not configured (complete) in 0s: ip x missing" {
		t.Errorf("Done: %q", r.String())
	}
	md := &MetaData{Name: "x", Parameters: []Parameter{{Name: "a", Required: true}}}
	var pe *ParamError
	if err := md.CheckParams(nil); !errors.As(err, &pe) || len(pe.Missing) != 1 {
		t.Errorf("CheckParams: %v", err)
	}
}
