package fencer

import (
	"context"
	"errors"
	"sync"
	"testing"

	"pacer/crm/cib"
	"pacer/stonith"
	"pacer/stonith/devices"
)

// fakeDevice records what it was asked; fail makes Fence fail.
type fakeDevice struct {
	mu    sync.Mutex
	fail  bool
	calls []string
}

func (d *fakeDevice) Fence(_ context.Context, plug string, a stonith.Action) (stonith.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, string(a)+":"+plug)
	if d.fail {
		return stonith.Result{}, errors.New("device says no")
	}
	return stonith.Result{Action: a, Plug: plug, State: stonith.PowerOff}, nil
}
func (d *fakeDevice) Status(context.Context, string) (stonith.PowerState, error) {
	return stonith.PowerOn, nil
}
func (d *fakeDevice) List(context.Context) ([]stonith.Target, error) { return nil, nil }
func (d *fakeDevice) Monitor(context.Context) error                  { return nil }

func setup(t *testing.T, failing map[string]bool) (*Fencer, map[string]*fakeDevice) {
	devs := map[string]*fakeDevice{}
	open := func(_ context.Context, agent string, params map[string]string) (*devices.Spec, error) {
		d := &fakeDevice{fail: failing[params["name"]]}
		devs[params["name"]] = d
		tg, err := stonith.NewTargeting(params, stonith.Capabilities{})
		if err != nil {
			return nil, err
		}
		return &devices.Spec{Agent: agent, Device: d, Targeting: tg, Native: true}, nil
	}
	return New(Config{Open: open, Node: "n1"}), devs
}

func dev(id, hostMap string) cib.Resource {
	return cib.Resource{Primitive: &cib.Primitive{ID: id, Class: "stonith", Type: "fence_test",
		Params: map[string]string{"name": id, "pcmk_host_map": hostMap}}}
}

func TestDeviceChosenByHostMap(t *testing.T) {
	f, devs := setup(t, nil)
	x := cib.New()
	x.Config.Resources = []cib.Resource{dev("fa", "n2:dom-n2"), dev("fb", "n3:dom-n3")}
	events, err := f.Fence(context.Background(), x, "n3", stonith.ActionReboot, "dc")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Device != "fb" || events[0].Result != "ok" || events[0].Executor != "n1" {
		t.Errorf("events %+v", events)
	}
	if got := devs["fb"].calls; len(got) != 1 || got[0] != "reboot:dom-n3" {
		t.Errorf("fb asked %v; want reboot of the mapped plug dom-n3", got)
	}
	if _, err := f.Fence(context.Background(), x, "n9", stonith.ActionOff, "dc"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("no device for n9: %v", err)
	}
}

// Levels are tried in order; a level whose device fails gives way to the
// next one, and every attempt is in the history.
func TestTopologyLevels(t *testing.T) {
	f, _ := setup(t, map[string]bool{"ipmi": true})
	x := cib.New()
	x.Config.Resources = []cib.Resource{dev("ipmi", "n2:n2"), dev("xvm", "n2:n2")}
	x.Config.FencingLevels = []cib.FencingLevel{
		{ID: "l2", Target: "n2", Index: 2, Devices: []string{"xvm"}},
		{ID: "l1", Target: "n2", Index: 1, Devices: []string{"ipmi"}},
	}
	events, err := f.Fence(context.Background(), x, "n2", stonith.ActionOff, "pcsctl")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Device != "ipmi" || events[0].Result != "failed" || events[0].Level != 1 ||
		events[1].Device != "xvm" || events[1].Result != "ok" || events[1].Level != 2 {
		t.Errorf("events %+v", events)
	}
}

func TestVerify(t *testing.T) {
	f, _ := setup(t, nil)
	x := cib.New()
	x.Config.Nodes = []cib.Node{{ID: "1", Name: "n1"}, {ID: "2", Name: "n2"}}
	x.Config.Resources = []cib.Resource{dev("fa", "n1:dom1")}
	checks := f.Verify(context.Background(), x)
	got := map[string]bool{}
	for _, c := range checks {
		got[c.Device+c.Node] = c.OK
	}
	if !got["fa"] || !got["n1"] || got["n2"] || len(checks) != 3 {
		t.Errorf("checks %+v; want device fa ok, n1 fenceable, n2 not", checks)
	}
}
