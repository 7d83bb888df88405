package cib

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// crmdWords are the values of node_state crmd besides booleans and
// timestamps.
var crmdWords = map[string]bool{"online": true, "offline": false}

// status reads <status>: one <node_state> per node with its transient
// attributes and operation history. Node states are keyed by uname; a
// node_state without one is matched to a configured node by id.
func (x *xmlIn) status(e *etree.Element, c *CIB) {
	x.attrs(e, "", "")
	byID := map[string]string{}
	for _, n := range c.Config.Nodes {
		byID[n.ID] = n.Name
	}
	for _, ns := range x.kids(e, "node_state") {
		x.attrs(ns, "id uname in_ccm crmd join expected remote_node pacer-unclean pacer-last-fenced pacer-boot",
			"crm-debug-origin ha shutdown clear_shutdown node_fenced")
		x.only(ns, "remote_node", "false")
		name := attr(ns, "uname")
		if name == "" {
			name = byID[attr(ns, "id")]
		}
		if name == "" {
			x.errf(ns, "<node_state id=%q> has no uname and no configured node has that id", attr(ns, "id"))
			continue
		}
		if c.Status.Nodes[name] != nil {
			x.errf(ns, "a second <node_state> for node %s", name)
			continue
		}
		st := &NodeStatus{Name: name, InCCM: x.boolAttr(ns, "in_ccm", nil), Crmd: x.boolAttr(ns, "crmd", crmdWords),
			Join: attr(ns, "join"), Expected: attr(ns, "expected"), Unclean: x.boolAttr(ns, "pacer-unclean", nil), Boot: attr(ns, "pacer-boot")}
		if attr(ns, "pacer-last-fenced") != "" {
			t := x.timeAttr(ns, "pacer-last-fenced")
			st.LastFenced = &t
		}
		for _, k := range x.kids(ns, "transient_attributes lrm") {
			x.attrs(k, "id", "uname")
			if k.Tag == "transient_attributes" {
				for _, set := range x.kids(k, "instance_attributes") {
					st.Attributes = x.nvset(set, st.Attributes)
				}
				continue
			}
			for _, rs := range x.kids(k, "lrm_resources") {
				x.attrs(rs, "", "id")
				for _, r := range x.kids(rs, "lrm_resource") {
					x.lrmResource(r, st)
				}
			}
		}
		c.Status.Nodes[name] = st
	}
}

func (x *xmlIn) lrmResource(e *etree.Element, st *NodeStatus) {
	x.attrs(e, "id class provider type", "shutdown-lock")
	h := &ResourceHistory{ID: x.need(e, "id"), Class: x.need(e, "class"), Provider: attr(e, "provider"), Type: x.need(e, "type")}
	if h.ID == "" {
		return
	}
	if st.Resources[h.ID] != nil {
		x.errf(e, "a second <lrm_resource id=%q> on node %s", h.ID, st.Name)
		return
	}
	ids := map[string]bool{}
	for _, o := range x.kids(e, "lrm_rsc_op") {
		op := x.lrmOp(o)
		if ids[op.ID] {
			x.errf(o, "a second <lrm_rsc_op id=%q> for %s on node %s: Pacemaker keeps one record per id", op.ID, h.ID, st.Name)
			continue
		}
		ids[op.ID] = true
		h.Ops = append(h.Ops, op)
	}
	if st.Resources == nil {
		st.Resources = map[string]*ResourceHistory{}
	}
	st.Resources[h.ID] = h
}

// lrmOpIgnored are lrm_rsc_op attributes the scheduler does not read:
// parameter digests (pacer does not restart on parameter changes),
// where the record came from, and keys derived from other attributes.
const lrmOpIgnored = "operation_key crm-debug-origin crm_feature_set transition-magic on_node op-digest " +
	"op-restart-digest op-secure-digest op-secure-params op-force-restart migrate_source migrate_target"

func (x *xmlIn) lrmOp(e *etree.Element) OpRecord {
	x.attrs(e, "id operation call-id rc-code op-status interval exec-time queue-time last-run last-rc-change transition-key exit-reason",
		lrmOpIgnored)
	x.kids(e, "")
	op := OpRecord{ID: x.need(e, "id"), Operation: x.need(e, "operation"), IntervalMS: x.int64Attr(e, "interval"),
		CallID: x.int64Attr(e, "call-id"), RC: int(x.int64Attr(e, "rc-code")), OpStatus: int(x.int64Attr(e, "op-status")),
		ExecTimeMS: x.int64Attr(e, "exec-time"), QueueTimeMS: x.int64Attr(e, "queue-time"),
		LastRun: x.timeAttr(e, "last-run"), LastRCChange: x.timeAttr(e, "last-rc-change"), Output: attr(e, "exit-reason")}
	if k := attr(e, "transition-key"); k != "" {
		rc, ok := transitionKeyRC(k)
		if !ok {
			x.errf(e, "transition-key=%q is not ACTION:TRANSITION:RC:UUID", k)
		} else if rc != op.DefaultExpectedRC() {
			op.ExpectedRC = &rc
		}
	}
	return op
}

// transitionKeyRC returns the expected result in a transition key
// ("action:transition:expected-rc:uuid").
func transitionKeyRC(key string) (int, bool) {
	parts := strings.SplitN(key, ":", 4)
	if len(parts) != 4 {
		return 0, false
	}
	for _, p := range parts[:2] {
		if _, err := strconv.Atoi(p); err != nil {
			return 0, false
		}
	}
	rc, err := strconv.Atoi(parts[2])
	return rc, err == nil
}
