package cib

import "testing"

func TestParseScore(t *testing.T) {
	cases := []struct {
		in   string
		want Score
		err  bool
	}{
		{"INFINITY", Infinity, false},
		{"+INFINITY", Infinity, false},
		{"-INFINITY", MinusInfinity, false},
		{"infinity", Infinity, false},
		{"100", 100, false},
		{"-50", -50, false},
		{"2000000", Infinity, false},
		{"-2000000", MinusInfinity, false},
		{"", 0, true},
		{"abc", 0, true},
		{"1.5", 0, true},
	}
	for _, c := range cases {
		got, err := ParseScore(c.in)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("ParseScore(%q) = %v, %v; want %v, err=%v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestScoreAdd(t *testing.T) {
	cases := []struct{ a, b, want Score }{
		{Infinity, MinusInfinity, MinusInfinity},
		{MinusInfinity, Infinity, MinusInfinity},
		{Infinity, 5, Infinity},
		{999999, 5, Infinity},
		{-999999, -5, MinusInfinity},
		{10, -3, 7},
	}
	for _, c := range cases {
		if got := c.a.Add(c.b); got != c.want {
			t.Errorf("%v + %v = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if Infinity.String() != "INFINITY" || MinusInfinity.String() != "-INFINITY" || Score(42).String() != "42" {
		t.Errorf("String: %s %s %s", Infinity, MinusInfinity, Score(42))
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]int64{ // milliseconds
		"10s": 10000, "1min": 60000, "500ms": 500, "30": 30000, "2h": 7200000, "1m": 60000, "0": 0, "5 s": 5000,
	}
	for in, ms := range cases {
		got, err := ParseDuration(in)
		if err != nil || got.Milliseconds() != ms {
			t.Errorf("ParseDuration(%q) = %v, %v; want %dms", in, got, err, ms)
		}
	}
	for _, bad := range []string{"", "s", "10x", "ten", "-5s", "1.5s", "99999999999999999999h"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestParseAgent(t *testing.T) {
	ok := map[string]string{
		"ocf:heartbeat:IPaddr2": "ocf:heartbeat:IPaddr2",
		"IPaddr2":               "ocf:heartbeat:IPaddr2",
		"ipaddr2":               "ocf:heartbeat:IPaddr2",
		"systemd:haproxy":       "systemd:haproxy",
		"stonith:fence_xvm":     "stonith:fence_xvm",
		"Stateful":              "ocf:pacemaker:Stateful",
	}
	for in, want := range ok {
		a, err := ParseAgent(in, nil)
		if err != nil || a.String() != want {
			t.Errorf("ParseAgent(%q) = %v, %v; want %s", in, a, err, want)
		}
	}
	for _, bad := range []string{"Dummy", "nosuchagent", "ocf:IPaddr2", "foo:bar", "systemd:x:y", "a:b:c:d", ":x"} {
		if _, err := ParseAgent(bad, nil); err == nil {
			t.Errorf("ParseAgent(%q) accepted", bad)
		}
	}
}
