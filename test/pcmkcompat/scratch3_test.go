package pcmkcompat

import (
	"os"
	"strconv"
	"testing"
)

func TestScratchOne(t *testing.T) {
	seed, _ := strconv.Atoi(os.Getenv("SEED"))
	in := Random(uint64(seed))
	_, tr, err := RunOurs(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + tr.Summary(true))
	for _, r := range tr.Resources {
		if e, err := tr.Explain(r.ID); err == nil {
			t.Log(e.String())
		}
	}
}
