package resources

import (
	"testing"

	"pacer/crm/cib"
)

// A probe answers; it does not fail by finding the resource running (a
// node that rejoins is probed where it runs things) or stopped.
func TestRecordFailedProbeAnswers(t *testing.T) {
	cases := []struct {
		op   cib.OpRecord
		want bool
	}{
		{cib.OpRecord{Operation: "monitor", RC: 0}, false},
		{cib.OpRecord{Operation: "monitor", RC: 7}, false},
		{cib.OpRecord{Operation: "monitor", RC: 1}, true},
		{cib.OpRecord{Operation: "monitor", IntervalMS: 10000, RC: 7}, true},
		{cib.OpRecord{Operation: "start", RC: 1}, true},
		{cib.OpRecord{Operation: "stop", RC: 7}, false},
		{cib.OpRecord{Operation: "start", RC: 0}, false},
	}
	for _, tc := range cases {
		if got := RecordFailed(tc.op); got != tc.want {
			t.Errorf("RecordFailed(%s interval %d rc %d) = %v, want %v", tc.op.Operation, tc.op.IntervalMS, tc.op.RC, got, tc.want)
		}
	}
}
