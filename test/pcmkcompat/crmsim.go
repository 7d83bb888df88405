// Package pcmkcompat checks pacer's scheduler against the real Pacemaker:
// every scenario is exported to Pacemaker CIB XML with crm/cib's
// exporter and run through both `crm_simulate -S` and
// scheduler.Schedule; placement and fencing must agree except where a
// difference is listed, with its reason, in allowed.go (and in
// docs/reference/simulate.md). It also holds the scenario generator
// used by the benchmark command cmd/simbench.
package pcmkcompat

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Outcome is what one scheduler run decided, reduced to what the two
// schedulers can be compared on.
type Outcome struct {
	// Placement maps each primitive to its node after the transition, or
	// "stopped". Clone instances are folded into their base id with the
	// sorted nodes joined by "," (instance numbers are arbitrary).
	Placement map[string]string
	// Fencing is the sorted list of nodes fenced.
	Fencing []string
	// Actions are "kind resource" lines (clone instances by base id),
	// sorted: informational, not required to match.
	Actions []string
}

// CRMSimulate is the path of crm_simulate, or "" when it is absent.
func CRMSimulate() string {
	p, err := exec.LookPath("crm_simulate")
	if err != nil {
		return ""
	}
	return p
}

// RunCRMSimulate runs `crm_simulate -S -x file --output-as=xml` and
// reads its revised cluster status and transition summary.
func RunCRMSimulate(ctx context.Context, bin, file string) (*Outcome, time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, "--simulate", "--xml-file", file, "--output-as=xml")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil && out.Len() == 0 {
		return nil, took, fmt.Errorf("crm_simulate %s: %v: %s", file, err, strings.TrimSpace(errb.String()))
	}
	o, perr := ParseCRMSimulate(out.Bytes())
	if perr != nil {
		return nil, took, fmt.Errorf("crm_simulate %s: %v (stderr: %s)", file, perr, strings.TrimSpace(errb.String()))
	}
	return o, took, nil
}

// The parts of crm_simulate's --output-as=xml result that are read.
type simResult struct {
	Actions struct {
		Node []struct {
			Task string `xml:"task,attr"`
			Node string `xml:"node,attr"`
		} `xml:"node_action"`
		Rsc []struct {
			Action   string `xml:"action,attr"`
			Resource string `xml:"resource,attr"`
		} `xml:"rsc_action"`
	} `xml:"actions"`
	Revised *struct {
		Resources simResources `xml:"resources"`
	} `xml:"revised_cluster_status"`
	Status struct {
		Code    int    `xml:"code,attr"`
		Message string `xml:"message,attr"`
	} `xml:"status"`
}

type simResources struct {
	Resources []simResource `xml:"resource"`
	Groups    []simGroup    `xml:"group"`
	Clones    []simClone    `xml:"clone"`
}

type simResource struct {
	ID     string `xml:"id,attr"`
	Active bool   `xml:"active,attr"`
	Nodes  []struct {
		Name string `xml:"name,attr"`
	} `xml:"node"`
}

type simGroup struct {
	ID        string        `xml:"id,attr"`
	Resources []simResource `xml:"resource"`
}

type simClone struct {
	ID        string        `xml:"id,attr"`
	Resources []simResource `xml:"resource"`
	Groups    []simGroup    `xml:"group"`
}

// ParseCRMSimulate reads crm_simulate's XML output.
func ParseCRMSimulate(b []byte) (*Outcome, error) {
	var r simResult
	if err := xml.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Revised == nil {
		return nil, fmt.Errorf("no revised cluster status (status %d %s)", r.Status.Code, r.Status.Message)
	}
	o := &Outcome{Placement: map[string]string{}}
	for _, n := range r.Actions.Node {
		if strings.HasPrefix(n.Task, "Fence") {
			o.Fencing = append(o.Fencing, n.Node)
		}
	}
	sort.Strings(o.Fencing)
	for _, a := range r.Actions.Rsc {
		o.Actions = append(o.Actions, a.Action+" "+baseID(a.Resource))
	}
	sort.Strings(o.Actions)
	add := func(rs []simResource, multi map[string][]string) {
		for _, x := range rs {
			if multi != nil {
				for _, n := range x.Nodes {
					multi[x.ID] = append(multi[x.ID], n.Name)
				}
				if _, ok := multi[x.ID]; !ok {
					multi[x.ID] = nil
				}
				continue
			}
			o.Placement[x.ID] = nodesText(x.Nodes)
		}
	}
	res := r.Revised.Resources
	add(res.Resources, nil)
	for _, g := range res.Groups {
		add(g.Resources, nil)
	}
	for _, c := range res.Clones {
		multi := map[string][]string{}
		add(c.Resources, multi)
		for _, g := range c.Groups {
			add(g.Resources, multi)
		}
		for id, nodes := range multi {
			o.Placement[baseID(id)] = joinNodes(nodes)
		}
	}
	return o, nil
}

func nodesText(nodes []struct {
	Name string `xml:"name,attr"`
}) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return joinNodes(names)
}

// joinNodes renders a set of nodes: "stopped" when empty, else the
// sorted names joined by ",".
func joinNodes(nodes []string) string {
	if len(nodes) == 0 {
		return "stopped"
	}
	s := append([]string(nil), nodes...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// baseID strips a clone instance suffix (":N").
func baseID(id string) string {
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}
