package pcmkcompat

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestScratchRandom(t *testing.T) {
	same, diff, act := 0, 0, 0
	os.MkdirAll("/tmp/pxr", 0755)
	for seed := uint64(1); seed <= 300; seed++ {
		in := Random(seed)
		b, err := in.XML()
		if err != nil {
			t.Fatal(err)
		}
		p := fmt.Sprintf("/tmp/pxr/%d.xml", seed)
		os.WriteFile(p, b, 0644)
		ours, _, err := RunOurs(in)
		if err != nil {
			t.Logf("%d: ours: %v", seed, err)
			continue
		}
		theirs, _, err := RunCRMSimulate(context.Background(), CRMSimulate(), p)
		if err != nil {
			t.Logf("%d: %v", seed, err)
			continue
		}
		if d := Diff(ours, theirs); len(d) > 0 {
			diff++
			t.Logf("%d: %s", seed, strings.Join(d, "; "))
		} else {
			same++
			if ActionsDiffer(ours, theirs) {
				act++
			}
		}
	}
	t.Logf("same %d diff %d (actions differ among same: %d)", same, diff, act)
}
