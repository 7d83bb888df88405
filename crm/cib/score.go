package cib

import (
	"fmt"
	"strconv"
	"strings"
)

// Score is a Pacemaker preference value. INFINITY and -INFINITY are the
// saturating bounds: a score never grows past them, and -INFINITY wins
// over +INFINITY because "never" must beat "always" for safety.
type Score int64

const (
	// Infinity is Pacemaker's INFINITY (1,000,000).
	Infinity Score = 1000000
	// MinusInfinity is -INFINITY: a hard ban.
	MinusInfinity Score = -Infinity
)

// ParseScore accepts INFINITY, +INFINITY, -INFINITY (any case) and
// integers; integers beyond ±1,000,000 are clipped as Pacemaker does.
func ParseScore(s string) (Score, error) {
	t := strings.TrimSpace(s)
	switch strings.ToUpper(t) {
	case "INFINITY", "+INFINITY":
		return Infinity, nil
	case "-INFINITY":
		return MinusInfinity, nil
	case "":
		return 0, fmt.Errorf("empty score: use an integer, INFINITY or -INFINITY")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("score %q is not a number: use an integer, INFINITY or -INFINITY", s)
	}
	return clip(n), nil
}

func clip(n int64) Score {
	if n >= int64(Infinity) {
		return Infinity
	}
	if n <= int64(MinusInfinity) {
		return MinusInfinity
	}
	return Score(n)
}

// Add returns s+o with Pacemaker's rules: -INFINITY absorbs everything,
// then +INFINITY, otherwise the clipped sum.
func (s Score) Add(o Score) Score {
	if s <= MinusInfinity || o <= MinusInfinity {
		return MinusInfinity
	}
	if s >= Infinity || o >= Infinity {
		return Infinity
	}
	return clip(int64(s) + int64(o))
}

// String prints INFINITY and -INFINITY by name.
func (s Score) String() string {
	switch {
	case s >= Infinity:
		return "INFINITY"
	case s <= MinusInfinity:
		return "-INFINITY"
	}
	return strconv.FormatInt(int64(s), 10)
}
