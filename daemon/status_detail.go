package daemon

import (
	"sort"

	"pacer/api"
	"pacer/crm/cib"
	"pacer/crm/controller"
	"pacer/crm/store"
	"pacer/membership"
	"pacer/resources"
)

// statusFenceHistory bounds the fencing attempts a status carries: enough
// for the views, small enough that status stays cheap.
const statusFenceHistory = 20

// addStatusDetail fills the parts of a status that 'pcsctl mon' and the
// crm_mon-shaped outputs show beyond the node and resource lists. It is
// pure (the DC state comes in st.Transition) so it can be tested without
// a cluster.
func addStatusDetail(st *api.StatusResponse, c *cib.CIB, members []membership.Member, servers []store.Server) {
	st.PacerVersion = Version
	if len(c.Config.Properties) > 0 {
		st.Properties = make(map[string]string, len(c.Config.Properties))
		for k, v := range c.Config.Properties {
			st.Properties[k] = v
		}
	}
	for _, m := range members {
		if m.Role == membership.RoleWitness {
			st.Witness, st.WitnessState = m.Name, m.State.String()
		}
	}
	st.ExpectedVotes, st.Votes, _ = votes(servers, members)
	if h := c.FenceHistory; len(h) > 0 {
		st.FenceHistory = append([]cib.FenceEvent(nil), h[max(0, len(h)-statusFenceHistory):]...)
		st.LastChange = h[len(h)-1].Completion
	}

	fencing, pending, blocked := dcActions(st.Transition)
	fencingOn := cib.IsTrue(c.Config.Property("stonith-enabled"))
	for i := range st.Nodes {
		n := &st.Nodes[i]
		if cn := c.Config.Node(n.Name); cn != nil {
			n.ID = cn.ID
			n.Attributes = nodeAttributes(cn.Attributes, nil)
		}
		n.Fencing = fencing[n.Name]
		ns := c.Status.Nodes[n.Name]
		if ns == nil {
			continue
		}
		n.Attributes = nodeAttributes(n.Attributes, ns.Attributes)
		// The same test the scheduler makes: a node that left while
		// expected up may still run what it ran, until it is fenced.
		n.Unclean = ns.Unclean || (fencingOn && !ns.InCCM && ns.Expected == "member")
	}

	names := make([]string, 0, len(c.Status.Nodes))
	for name := range c.Status.Nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	for i := range st.Resources {
		r := &st.Resources[i]
		r.Pending = pending[r.ID]
		r.Blocked = blocked[r.ID]
		for _, name := range names {
			ns := c.Status.Nodes[name]
			if fc := int(cib.FailCount(ns.Attributes, r.ID)); fc > r.FailCount {
				r.FailCount, r.FailCountNode = fc, name
			}
			last, ok := ns.Resources[r.ID].Last()
			if !ok {
				continue
			}
			if last.LastRCChange.After(r.Since) && (name == r.Node || r.Node == "") {
				r.Since = last.LastRCChange
			}
			if last.LastRCChange.After(st.LastChange) {
				st.LastChange = last.LastRCChange
			}
			if resources.RecordFailed(last) {
				r.Failed = true
			}
		}
	}
}

// dcActions reads the DC's running and blocked actions (as the controller
// words them: "start web on node1", "fence node2", "start web: reason").
func dcActions(t *api.DCState) (fencing map[string]bool, pending, blocked map[string]string) {
	fencing, pending, blocked = map[string]bool{}, map[string]string{}, map[string]string{}
	if t == nil {
		return
	}
	for _, p := range t.Pending {
		kind, target, ok := controller.ReadPending(p)
		switch {
		case !ok:
		case kind == "fence":
			fencing[target] = true
		case kind == "start":
			pending[target] = "Starting"
		case kind == "stop":
			pending[target] = "Stopping"
		}
	}
	for _, b := range t.Blocked {
		kind, rsc, reason, ok := controller.ReadBlocked(b)
		if _, seen := blocked[rsc]; ok && !seen {
			blocked[rsc] = "cannot " + kind + ": " + reason
		}
	}
	return
}

// nodeAttributes merges permanent and transient attributes into one
// map, leaving out what the views show elsewhere (standby, maintenance,
// the failure bookkeeping); nil when nothing is left.
func nodeAttributes(into, from map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{into, from} {
		for k, v := range m {
			if k == "standby" || k == "maintenance" || cib.IsFailAttr(k, "") {
				continue
			}
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// votes counts the Raft voters (expected votes), those gossip sees up,
// and the non-voters.
func votes(servers []store.Server, members []membership.Member) (voters, up, nonvoters int) {
	alive := map[string]bool{}
	for _, m := range members {
		alive[m.Name] = m.Up()
	}
	for _, s := range servers {
		switch {
		case !s.Voter:
			nonvoters++
		case alive[s.ID]:
			voters++
			up++
		default:
			voters++
		}
	}
	return voters, up, nonvoters
}
