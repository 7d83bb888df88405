package cib

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the suffixes Pacemaker's crm_get_msec accepts. A bare
// number means seconds, as in Pacemaker.
var durationUnits = map[string]time.Duration{
	"":     time.Second,
	"ms":   time.Millisecond,
	"msec": time.Millisecond,
	"us":   time.Microsecond,
	"usec": time.Microsecond,
	"s":    time.Second,
	"sec":  time.Second,
	"m":    time.Minute,
	"min":  time.Minute,
	"h":    time.Hour,
	"hr":   time.Hour,
}

// ParseDuration parses an interval or timeout the way Pacemaker does:
// "10s", "1min", "500ms", "2h", or "30" (seconds).
func ParseDuration(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a duration: use a number with a unit, e.g. 10s, 1min, 500ms", s)
	}
	unit, ok := durationUnits[strings.TrimSpace(t[i:])]
	if !ok {
		return 0, fmt.Errorf("%q has unknown unit %q: use ms, s, min or h (e.g. 10s, 1min, 500ms)", s, t[i:])
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("%q is too large for a duration", s)
	}
	return time.Duration(n) * unit, nil
}
