package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"pacer/crm/cib"
)

// failCount returns a resource's effective fail count on a node: the sum
// of its fail-count-RSC#op_interval attributes, or 0 once the newest
// failure is older than failure-timeout. expired says whether a non-zero
// count was dropped that way.
func (s *scheduler) failCount(r *resource, n *node) (cib.Score, bool) {
	if s.failCounts == nil || s.failCounts[n.idx] == nil {
		return 0, false
	}
	fi := s.failCounts[n.idx][r.base]
	if fi.count <= 0 {
		return 0, false
	}
	if r.failureTimeout > 0 && fi.last > 0 {
		if s.in.Now.After(time.Unix(fi.last, 0).Add(r.failureTimeout)) {
			return 0, true
		}
	}
	return fi.count, false
}

// parseFailCounts collects fail-count-* and last-failure-* attributes by
// resource (clone instance suffixes stripped).
func parseFailCounts(attrs map[string]string) map[string]failInfo {
	out := map[string]failInfo{}
	for _, k := range sortedKeys(attrs) {
		v := attrs[k]
		var rest string
		var isCount bool
		switch {
		case strings.HasPrefix(k, "fail-count-"):
			rest, isCount = k[len("fail-count-"):], true
		case strings.HasPrefix(k, "last-failure-"):
			rest = k[len("last-failure-"):]
		default:
			continue
		}
		if i := strings.IndexByte(rest, '#'); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			if _, err := strconv.Atoi(rest[i+1:]); err == nil {
				rest = rest[:i]
			}
		}
		fi := out[rest]
		if isCount {
			if sc, err := cib.ParseScore(v); err == nil {
				fi.count = fi.count.Add(sc)
			}
		} else if t, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && t > fi.last {
			fi.last = t
		}
		out[rest] = fi
	}
	return out
}

// callOrder sorts pending operations (call id -1) last.
func callOrder(op *cib.OpRecord) int64 {
	if op.CallID < 0 {
		return 1 << 62
	}
	return op.CallID
}

func opName(op *cib.OpRecord) string {
	if op.Operation == "monitor" && op.IntervalMS == 0 {
		return "probe"
	}
	if op.IntervalMS > 0 {
		return fmt.Sprintf("%s every %s", op.Operation, time.Duration(op.IntervalMS)*time.Millisecond)
	}
	return op.Operation
}

func rcText(rc int) string {
	switch rc {
	case 0:
		return "ok"
	case 1:
		return "generic error"
	case 2:
		return "invalid parameter"
	case 3:
		return "unimplemented feature"
	case 4:
		return "insufficient privileges"
	case 5:
		return "not installed"
	case 6:
		return "not configured"
	case 7:
		return "not running"
	case 8:
		return "running promoted"
	case 9:
		return "failed promoted"
	}
	return "unknown"
}
