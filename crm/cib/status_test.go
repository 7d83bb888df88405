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
