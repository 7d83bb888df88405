package pcmkcompat

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"pacer/crm/cib"
	"pacer/crm/scheduler"
)

// Input is one scenario: a CIB with status, the quorum and the time.
type Input struct {
	Name   string
	Desc   string
	CIB    *cib.CIB
	Quorum bool
	Now    time.Time
}

// XML exports the scenario as the document crm_simulate reads: quorum in
// have-quorum, the time in execution-date.
func (in *Input) XML() ([]byte, error) {
	return cib.ExportXML(in.CIB, cib.XMLHeader{HaveQuorum: in.Quorum, ExecutionDate: in.Now})
}

// ConfigXML exports the scenario's configuration only (no <status>).
func (in *Input) ConfigXML() ([]byte, error) {
	return cib.ExportConfigXML(in.CIB, cib.XMLHeader{HaveQuorum: in.Quorum, ExecutionDate: in.Now})
}

// LoadJSON reads a scheduler scenario input (crm/scheduler/testdata/cib).
func LoadJSON(path string) (*Input, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		CIB    *cib.CIB `json:"cib"`
		Quorum bool     `json:"quorum"`
		Now    string   `json:"now"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	now, err := time.Parse(time.RFC3339, raw.Now)
	if err != nil {
		return nil, fmt.Errorf("%s: now: %w", path, err)
	}
	if raw.CIB == nil {
		return nil, fmt.Errorf("%s: no cib", path)
	}
	if raw.CIB.Status.Nodes == nil {
		raw.CIB.Status.Nodes = map[string]*cib.NodeStatus{}
	}
	return &Input{CIB: raw.CIB, Quorum: raw.Quorum, Now: now.UTC()}, nil
}

// RunOurs schedules the scenario with pacer's scheduler.
func RunOurs(in *Input) (*Outcome, *scheduler.Transition, error) {
	tr, err := scheduler.Schedule(scheduler.Input{CIB: in.CIB, Quorum: in.Quorum, Now: in.Now})
	if err != nil {
		return nil, nil, err
	}
	return OutcomeOf(tr), tr, nil
}

// OutcomeOf reduces a transition to what is compared.
func OutcomeOf(tr *scheduler.Transition) *Outcome {
	o := &Outcome{Placement: map[string]string{}, Fencing: append([]string(nil), tr.Fencing...)}
	clones := map[string][]string{}
	for _, r := range tr.Resources {
		p := tr.Placement[r.ID]
		if r.Clone == "" {
			o.Placement[r.ID] = p
			continue
		}
		b := baseID(r.ID)
		if _, ok := clones[b]; !ok {
			clones[b] = nil
		}
		if p != scheduler.Stopped && p != "" {
			clones[b] = append(clones[b], p)
		}
	}
	for id, nodes := range clones {
		o.Placement[id] = joinNodes(nodes)
	}
	for _, a := range tr.Actions {
		o.Actions = append(o.Actions, string(a.Kind)+" "+baseID(a.Resource))
	}
	sort.Strings(o.Actions)
	sort.Strings(o.Fencing)
	return o
}

// Diff lists where two outcomes disagree on placement or fencing, one
// line each ("placement A: pacer node1, pacemaker node2"); empty when
// they agree. A resource missing from one side counts as stopped there
// (crm_simulate leaves stopped orphans out).
func Diff(ours, theirs *Outcome) []string {
	var d []string
	keys := map[string]bool{}
	for k := range ours.Placement {
		keys[k] = true
	}
	for k := range theirs.Placement {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		a, b := orStopped(ours.Placement[k]), orStopped(theirs.Placement[k])
		if a != b {
			d = append(d, fmt.Sprintf("placement %s: pacer %s, pacemaker %s", k, a, b))
		}
	}
	if strings.Join(ours.Fencing, ",") != strings.Join(theirs.Fencing, ",") {
		d = append(d, fmt.Sprintf("fencing: pacer [%s], pacemaker [%s]", strings.Join(ours.Fencing, " "), strings.Join(theirs.Fencing, " ")))
	}
	return d
}

// ActionsDiffer reports whether the transition summaries differ.
func ActionsDiffer(ours, theirs *Outcome) bool {
	return strings.Join(ours.Actions, "|") != strings.Join(theirs.Actions, "|")
}

func orStopped(s string) string {
	if s == "" {
		return scheduler.Stopped
	}
	return s
}
