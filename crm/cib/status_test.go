package cib

import "testing"

func TestIsFailAttr(t *testing.T) {
	for _, c := range []struct {
		name, rsc string
		want      bool
	}{
		{FailCountAttr("vip", "monitor", 10000), "", true},
		{LastFailureAttr("vip", "start", 0), "vip", true},
		{FailCountAttr("vip2", "start", 0), "vip", false},
		{"standby", "", false},
	} {
		if got := IsFailAttr(c.name, c.rsc); got != c.want {
			t.Errorf("IsFailAttr(%q, %q) = %v, want %v", c.name, c.rsc, got, c.want)
		}
	}
}

func TestFailCount(t *testing.T) {
	attrs := map[string]string{
		FailCountAttr("vip", "monitor", 10000): "2", FailCountAttr("vip", "start", 0): "1",
		FailCountAttr("vip2", "start", 0): "5", FailCountAttr("web", "stop", 0): "INFINITY", "standby": "on",
	}
	for rsc, want := range map[string]Score{"vip": 3, "vip2": 5, "web": Infinity, "none": 0} {
		if got := FailCount(attrs, rsc); got != want {
			t.Errorf("FailCount(%s) = %v, want %v", rsc, got, want)
		}
	}
}
