package scheduler

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"pacer/crm/cib"
)

// A deleted resource whose stop failed with a hard error (rc 5) once
// crashed the scheduler (a ban on an orphan had no score table). It must
// schedule, and never place the orphan anywhere new.
func TestOrphanWithFailedStop(t *testing.T) {
	b, err := os.ReadFile("testdata/orphan-failed-stop.json")
	if err != nil {
		t.Fatal(err)
	}
	var x cib.CIB
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	tr, err := Schedule(Input{CIB: &x, Quorum: true, Now: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if p := tr.Placement["ghost"]; p != Stopped && p != "n1" {
		t.Errorf("orphan ghost placed on %q", p)
	}
	for _, st := range tr.Steps {
		if st.Kind == StepStart && st.Resource == "ghost" {
			t.Errorf("the orphan is started: %v", tr.Steps)
		}
	}
}
