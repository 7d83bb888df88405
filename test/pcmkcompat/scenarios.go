package pcmkcompat

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SchedulerScenarios loads the scheduler's golden scenario inputs
// (crm/scheduler/testdata/cib/*.json, written by its TestGolden
// -update), one feature each, sorted by name.
func SchedulerScenarios(dir string) ([]*Input, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Input
	for _, f := range files {
		in, err := LoadJSON(f)
		if err != nil {
			return nil, err
		}
		in.Name = strings.TrimSuffix(filepath.Base(f), ".json")
		// The golden summary starts with "# description".
		if b, err := os.ReadFile(filepath.Join(dir, "..", "golden", in.Name+".summary")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			in.Desc = strings.TrimPrefix(first, "# ")
		}
		out = append(out, in)
	}
	return out, nil
}

// featureRules map scenario name prefixes to the feature they check, for
// the agreement table. The first matching prefix wins.
var featureRules = []struct{ prefix, feature string }{
	{"random-", "random CIBs (seeded generator)"},
	{"clone-", "anonymous clones"},
	{"coloc-", "colocation"},
	{"anti-colocation", "colocation"},
	{"group-with-primitive", "colocation"},
	{"order-", "order constraints"},
	{"group-", "groups"},
	{"rule-", "location: rules"},
	{"location-", "location constraints and scores"},
	{"infinity-", "location constraints and scores"},
	{"opt-in", "location constraints and scores"},
	{"stickiness-", "tie-break and stickiness"},
	{"start-spread", "tie-break and stickiness"},
	{"stay-current", "tie-break and stickiness"},
	{"rebalance-", "tie-break and stickiness"},
	{"priority-", "tie-break and stickiness"},
	{"failcount-", "failures and fail counts"},
	{"failed-monitor", "failures and fail counts"},
	{"failure-timeout", "failures and fail counts"},
	{"on-fail", "failures and fail counts"},
	{"hard-error", "failures and fail counts"},
	{"monitor-expected", "operation history"},
	{"probe-", "operation history"},
	{"multiply-active", "operation history"},
	{"orphan-", "operation history"},
	{"target-role", "management"},
	{"unmanaged", "management"},
	{"maintenance-mode", "management"},
	{"node-maintenance", "management"},
	{"stop-all", "management"},
	{"standby", "node states"},
	{"shutdown", "node states"},
	{"pending-node", "node states"},
	{"left-cleanly", "node states"},
	{"no-quorum", "quorum"},
	{"lost-node-no-quorum", "quorum"},
	{"failed-stop", "fencing"},
	{"lost-node", "fencing"},
	{"unseen-node", "fencing"},
	{"offline-with", "fencing"},
	{"stonith-", "fencing"},
	{"large-", "benchmark cluster (groups, constraints, a lost node)"},
}

// Feature names the feature a scenario checks.
func Feature(name string) string {
	for _, r := range featureRules {
		if strings.HasPrefix(name, r.prefix) {
			return r.feature
		}
	}
	return "other"
}
