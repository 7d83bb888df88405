package scheduler

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.summary and testdata/cib/*.json")

// TestGolden checks every scenario's full output — node states, actions,
// steps, placement and the allocation scores — against
// testdata/golden/<name>.summary, in the format of Transition.Summary.
// With -update it rewrites the goldens and writes each scenario's input
// to testdata/cib/<name>.json (the CIB plus quorum and time), so the
// same scenarios can be exported to Pacemaker XML and fed to
// crm_simulate.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			x := sc.build()
			tr := x.schedule(t)
			got := "# " + sc.desc + "\n\n" + tr.Summary(true)
			path := filepath.Join("testdata", "golden", sc.name+".summary")
			if *update {
				writeFile(t, path, []byte(got))
				in, err := json.MarshalIndent(struct {
					CIB    any    `json:"cib"`
					Quorum bool   `json:"quorum"`
					Now    string `json:"now"`
				}{x.c, x.quorum, x.now.Format("2006-01-02T15:04:05Z07:00")}, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join("testdata", "cib", sc.name+".json"), append(in, '\n'))
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from golden (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
