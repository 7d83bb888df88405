package mon

import (
	"fmt"
	"strings"

	"pacer/api"
	"pacer/crm/cib"
)

// banners are the loud lines at the top: the ways a cluster runs unsafe
// or cannot act, each with what it means for the person reading.
func banners(st *api.StatusResponse) []string {
	var out []string
	switch {
	case st.DC == "" && st.TwoNode != nil:
		// Two-node mode never applies no-quorum-policy: the node keeps
		// what it runs until it takes over or is fenced.
		out = append(out, fmt.Sprintf("NO QUORUM: %s sees no DC; two-node mode keeps its resources (%s: %s) and nothing can be changed", st.Node, st.TwoNode.Step, st.TwoNode.Reason))
	case st.DC == "":
		p := prop(st, "no-quorum-policy", "stop")
		out = append(out, fmt.Sprintf("NO QUORUM: %s sees no DC; its resources follow no-quorum-policy=%s and nothing can be changed", st.Node, p))
	}
	if !cib.IsTrue(prop(st, "stonith-enabled", "true")) {
		out = append(out, "UNSAFE: fencing is disabled (stonith-enabled=false): a lost node's resources may run on two nodes at once")
	}
	if prop(st, "no-quorum-policy", "") == "ignore" {
		out = append(out, "UNSAFE: no-quorum-policy=ignore: a partition without quorum keeps running and starting resources")
	}
	failing := map[string]bool{}
	for _, f := range st.Failures {
		if isStonith(st, f.Resource) && !failing[f.Resource] {
			failing[f.Resource] = true
			why := f.Reason
			if why == "" {
				why = f.Status
			}
			out = append(out, fmt.Sprintf("UNSAFE: fencing device %s fails its %s on %s: %s", f.Resource, f.Op, f.Node, why))
		}
	}
	for _, r := range st.Resources {
		if r.Failed && strings.HasPrefix(r.Agent, "stonith:") && !failing[r.ID] {
			failing[r.ID] = true
			out = append(out, fmt.Sprintf("UNSAFE: fencing device %s fails its monitor", r.ID))
		}
	}
	return out
}

func isStonith(st *api.StatusResponse, id string) bool {
	for _, r := range st.Resources {
		if r.ID == id {
			return strings.HasPrefix(r.Agent, "stonith:")
		}
	}
	return false
}

func prop(st *api.StatusResponse, name, def string) string {
	if v, ok := st.Properties[name]; ok && v != "" {
		return v
	}
	return def
}

// blockers are sentences naming what keeps each resource from where it
// should be, the fencing it waits for first, with how fencing went.
func blockers(st *api.StatusResponse) []blocker {
	nodes := map[string]api.NodeStatus{}
	for _, n := range st.Nodes {
		nodes[n.Name] = n
	}
	var out []blocker
	for _, r := range st.Resources {
		if !r.Managed || strings.HasPrefix(r.Agent, "stonith:") {
			continue
		}
		n, held := nodes[r.Node]
		held = held && r.Node != "" && (n.Fencing || n.Unclean)
		switch {
		case held && (n.Fencing || r.Blocked == ""):
			out = append(out, blocker{r.ID, fmt.Sprintf("%s cannot start: waiting to fence %s%s", r.ID, r.Node, fenceAttempts(st, r.Node))})
		case held:
			out = append(out, blocker{r.ID, fmt.Sprintf("%s %s%s", r.ID, r.Blocked, fenceAttempts(st, r.Node))})
		case r.Blocked != "":
			extra := ""
			for name, n := range nodes {
				if (n.Unclean || n.Fencing) && strings.Contains(r.Blocked, name+" ") {
					extra = fenceAttempts(st, name)
				}
			}
			out = append(out, blocker{r.ID, r.ID + " " + r.Blocked + extra})
		}
	}
	return out
}

type blocker struct{ resource, text string }

// fenceAttempts sums up the failed fencing of a node since it was last
// fenced: " (device vmfence: timeout, 3 attempts)".
func fenceAttempts(st *api.StatusResponse, node string) string {
	n, device, result := 0, "", ""
	for _, e := range st.FenceHistory {
		if e.Target != node {
			continue
		}
		if e.Result == "ok" {
			n, device, result = 0, "", ""
			continue
		}
		n++
		device, result = e.Device, e.Result
		if e.Result == "failed" && e.Error != "" {
			result = shorten(firstLine(e.Error), 48)
		}
	}
	if n == 0 {
		return " (no fencing attempt yet)"
	}
	if device == "" {
		device = "?"
	}
	return fmt.Sprintf(" (device %s: %s, %d %s)", device, result, n, plural(n, "attempt", "attempts"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
