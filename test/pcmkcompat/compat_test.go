package pcmkcompat

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/scenarios/*.xml from the scheduler scenarios")
	seeds  = flag.Int("seeds", 300, "number of random CIBs compared with crm_simulate")
)

const scenarioDir = "../../crm/scheduler/testdata/cib"

func scenarios(t *testing.T) []*Input {
	t.Helper()
	ins, err := SchedulerScenarios(scenarioDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) < 40 {
		t.Fatalf("only %d scheduler scenarios in %s", len(ins), scenarioDir)
	}
	return ins
}

// TestScenarioXML keeps testdata/scenarios/*.xml — the scheduler's
// scenarios as Pacemaker CIBs, for running crm_simulate -x by hand —
// equal to what the exporter writes today (-update rewrites them).
func TestScenarioXML(t *testing.T) {
	dir := filepath.Join("testdata", "scenarios")
	want := map[string]bool{}
	for _, in := range scenarios(t) {
		b, err := in.XML()
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		path := filepath.Join(dir, in.Name+".xml")
		want[filepath.Base(path)] = true
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(b) {
			t.Errorf("%s is not the current export (run go test ./test/pcmkcompat -run TestScenarioXML -update)", path)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	for _, f := range files {
		if !want[filepath.Base(f)] {
			if *update {
				os.Remove(f)
			} else {
				t.Errorf("%s has no scheduler scenario any more (run with -update)", f)
			}
		}
	}
}

// result is one scenario run on both schedulers.
type result struct {
	in            *Input
	diff          []string
	actionsDiffer bool
	err           error
}

// runAll compares every input on a bounded pool of two workers (the CI
// machine has two cores; crm_simulate is single-threaded).
func runAll(bin string, ins []*Input) []result {
	dir, err := os.MkdirTemp("", "pcmkcompat")
	if err != nil {
		return []result{{err: err}}
	}
	defer os.RemoveAll(dir)
	out := make([]result, len(ins))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = compareOne(bin, dir, ins[i])
			}
		}()
	}
	for i := range ins {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

func compareOne(bin, dir string, in *Input) result {
	r := result{in: in}
	b, err := in.XML()
	if err != nil {
		r.err = err
		return r
	}
	file := filepath.Join(dir, in.Name+".xml")
	if r.err = os.WriteFile(file, b, 0o644); r.err != nil {
		return r
	}
	ours, _, err := RunOurs(in)
	if err != nil {
		r.err = fmt.Errorf("pacer: %w", err)
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	theirs, _, err := RunCRMSimulate(ctx, bin, file)
	if err != nil {
		r.err = err
		return r
	}
	r.diff = Diff(ours, theirs)
	r.actionsDiffer = ActionsDiffer(ours, theirs)
	return r
}

// TestAgainstPacemaker runs every scheduler scenario and -seeds random
// CIBs through crm_simulate -S and pacer's scheduler and requires the
// same placement and fencing, except for the scenarios in Allowed.
func TestAgainstPacemaker(t *testing.T) {
	bin := CRMSimulate()
	if bin == "" {
		t.Skip("crm_simulate not installed (Debian: apt-get install pacemaker-cli-utils)")
	}
	ins := scenarios(t)
	for seed := 1; seed <= *seeds; seed++ {
		ins = append(ins, Random(uint64(seed)))
	}
	ins = append(ins, Large(100, 8, true))
	type tally struct{ same, total, sameActions int }
	byFeature := map[string]*tally{}
	for _, r := range runAll(bin, ins) {
		name := r.in.Name
		if r.err != nil {
			t.Errorf("%s: %v", name, r.err)
			continue
		}
		f := Feature(name)
		if byFeature[f] == nil {
			byFeature[f] = &tally{}
		}
		tl := byFeature[f]
		tl.total++
		if !r.actionsDiffer {
			tl.sameActions++
		}
		reason, allowed := Allowed[name]
		switch {
		case len(r.diff) == 0 && allowed:
			tl.same++
			t.Errorf("%s agrees with Pacemaker now: remove it from Allowed (%s)", name, reason)
		case len(r.diff) == 0:
			tl.same++
		case allowed:
			t.Logf("%s differs on purpose: %s\n  %s", name, strings.Join(r.diff, "\n  "), reason)
		default:
			t.Errorf("%s (%s): pacer and crm_simulate disagree:\n  %s", name, r.in.Desc, strings.Join(r.diff, "\n  "))
		}
	}
	var names []string
	for f := range byFeature {
		names = append(names, f)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| feature | placement and fencing identical | transition summary identical |\n|---|---|---|\n")
	for _, f := range names {
		tl := byFeature[f]
		fmt.Fprintf(&b, "| %s | %d of %d | %d of %d |\n", f, tl.same, tl.total, tl.sameActions, tl.total)
	}
	t.Logf("agreement with crm_simulate (%s):\n%s", pacemakerVersion(bin), b.String())
}

func pacemakerVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown version"
	}
	return strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
}

// TestCRMVerifyScenarios: crm_verify accepts the exported configuration
// of every scenario, except the ones that pin Pacemaker config errors.
func TestCRMVerifyScenarios(t *testing.T) {
	bin, err := exec.LookPath("crm_verify")
	if err != nil {
		t.Skip("crm_verify not installed (Debian: apt-get install pacemaker-cli-utils)")
	}
	dir := t.TempDir()
	ins := scenarios(t)
	errs := make([]string, len(ins))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b, err := in.ConfigXML()
			if err != nil {
				errs[i] = err.Error()
				return
			}
			f := filepath.Join(dir, in.Name+".xml")
			if err := os.WriteFile(f, b, 0o644); err != nil {
				errs[i] = err.Error()
				return
			}
			out, err := exec.Command(bin, "-V", "-x", f).CombinedOutput()
			_, invalid := ConfigInvalidInPacemaker[in.Name]
			switch {
			case err == nil && invalid:
				errs[i] = "crm_verify accepts it now: remove it from ConfigInvalidInPacemaker"
			case err != nil && !invalid:
				errs[i] = fmt.Sprintf("crm_verify: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("%s: %s", ins[i].Name, e)
		}
	}
}

// TestRandomIsDeterministic: the same seed gives the same CIB, and every
// generated CIB schedules.
func TestRandomIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		a, b := Random(seed), Random(seed)
		if !reflect.DeepEqual(a.CIB, b.CIB) || a.Quorum != b.Quorum {
			t.Fatalf("seed %d: two different CIBs", seed)
		}
		if _, _, err := RunOurs(a); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// TestLargeShape keeps the benchmark cluster honest: it fences the lost
// node and moves everything off it.
func TestLargeShape(t *testing.T) {
	in := Large(200, 8, true)
	o, tr, err := RunOurs(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Fencing, []string{"node8"}) || len(tr.Actions) == 0 {
		t.Fatalf("fencing %v, %d actions", o.Fencing, len(tr.Actions))
	}
	for id, n := range o.Placement {
		if strings.Contains(n, "node8") {
			t.Errorf("%s placed on the lost node", id)
		}
	}
}
