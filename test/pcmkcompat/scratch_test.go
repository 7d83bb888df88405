package pcmkcompat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScratch(t *testing.T) {
	files, _ := filepath.Glob("../../crm/scheduler/testdata/cib/*.json")
	os.MkdirAll("/tmp/pxs", 0755)
	same, diff, actSame := 0, 0, 0
	for _, f := range files {
		in, err := LoadJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		b, err := in.XML()
		if err != nil {
			t.Fatal(err)
		}
		p := "/tmp/pxs/" + name + ".xml"
		os.WriteFile(p, b, 0644)
		ours, _, err := RunOurs(in)
		if err != nil {
			t.Fatal(err)
		}
		theirs, _, err := RunCRMSimulate(context.Background(), CRMSimulate(), p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !ActionsDiffer(ours, theirs) {
			actSame++
		}
		if d := Diff(ours, theirs); len(d) > 0 {
			diff++
			t.Logf("%s: %s", name, strings.Join(d, "; "))
			t.Logf("   actions ours %v theirs %v", ours.Actions, theirs.Actions)
		} else {
			same++
			if ActionsDiffer(ours, theirs) {
				t.Logf("%s ACTIONS: ours %v theirs %v", name, ours.Actions, theirs.Actions)
			}
		}
	}
	t.Logf("same %d diff %d actions same %d", same, diff, actSame)
}
