package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pacer/crm/cib"
)

// onFail is what a failed operation asks for, in Pacemaker's order of
// severity (enum pcmk__on_fail): a later failure can only raise it.
type onFail uint8

const (
	failIgnore onFail = iota
	failRestart
	failBan
	failBlock
	failStop
	failStandby
	failFence
)

// OCF exit codes and executor statuses used below.
const (
	rcOK               = 0
	rcInvalidParam     = 2
	rcUnimplemented    = 3
	rcInsufficientPriv = 4
	rcNotInstalled     = 5
	rcNotConfigured    = 6
	rcNotRunning       = 7
	rcRunningPromoted  = 8
	rcFailedPromoted   = 9

	execPending      = -1
	execDone         = 0
	execCancelled    = 1
	execError        = 4
	execErrorHard    = 5
	execErrorFatal   = 6
	execNotInstalled = 7
)

// ban is a score contribution found while reading status, applied to
// the score tables in scores.go.
type ban struct {
	rsc   *resource
	node  *node // nil: every node
	score cib.Score
	text  string
}

// failInfo is one resource's fail count on one node.
type failInfo struct {
	count cib.Score
	last  int64 // newest last-failure, epoch seconds
}

// histResult is what one resource's history on one node says.
type histResult struct {
	role    role
	onFail  onFail
	ignored bool // a failure was ignored (on-fail=ignore)
	bans    []ban
	notes   []string
}

// unpackStatus reads every node's operation history to learn where each
// resource runs and what failed, as Pacemaker's unpack_status does. Nodes
// that are online come first so that active clone instances get the low
// instance numbers. Without fencing, the history of offline nodes is not
// read at all: their resources are assumed stopped.
func (s *scheduler) unpackStatus() {
	s.failCounts = make([]map[string]failInfo, len(s.nodes))
	order := make([]*node, 0, len(s.nodes))
	for _, n := range s.nodes {
		if n.online {
			order = append(order, n)
		}
	}
	for _, n := range s.nodes {
		if !n.online {
			order = append(order, n)
		}
	}
	bound := map[string]int{} // "clone/node" -> instance, for cloned groups
	var all, live []nodeHistory
	for _, n := range order {
		ns := s.in.CIB.Status.Nodes[n.name]
		if ns == nil {
			continue
		}
		s.failCounts[n.idx] = parseFailCounts(ns.Attributes)
		if !s.opt.stonith && !n.online {
			continue
		}
		// A settled cluster has a probe record for every resource on
		// every node, and almost all of them only say "not running
		// here" (10,000 resources on 32 nodes: 310,000 of 320,000).
		// Those change nothing, so they are dropped in one pass over
		// the node's map, without a lookup by id or a sort; the few
		// left are read in id order, as Pacemaker does, since the
		// order decides clone instance numbers and the first reason
		// recorded for an unclean node.
		//
		// The map entries, the histories and their records are three
		// separate heap objects each, scattered over the input, so the
		// pass is split into short loops of independent loads: the
		// processor keeps many cache misses in flight at once instead
		// of waiting for each chain of three in turn.
		all = slices.Grow(all[:0], len(ns.Resources))
		for rid, h := range ns.Resources {
			if h != nil {
				all = append(all, nodeHistory{rid: rid, h: h})
			}
		}
		for i := range all {
			all[i].ops = all[i].h.Ops
		}
		live = live[:0]
		for i := range all {
			if !inert(all[i].ops) {
				live = append(live, all[i])
			}
		}
		slices.SortFunc(live, func(a, b nodeHistory) int { return strings.Compare(a.rid, b.rid) })
		for _, e := range live {
			s.unpackHistory(n, e.rid, e.h, bound)
		}
	}
}

// nodeHistory is one entry of a node's resource history map.
type nodeHistory struct {
	rid string
	h   *cib.ResourceHistory
	ops []cib.OpRecord
}

// inert reports whether a history is certain to leave the resource
// stopped (or unknown) with nothing failed, whatever the resource's
// configuration and the node's state: every operation completed with
// its expected result, 0 or 7, and the newest one left the resource
// stopped. evalHistory would return roleStopped or roleUnknown with no
// failure, ban or note for it, and processState would do nothing.
func inert(ops []cib.OpRecord) bool {
	newest := int64(-1)
	stopped := true
	for i := range ops {
		op := &ops[i]
		if !scheduledOp(op.Operation) || op.OpStatus == execCancelled {
			continue
		}
		if op.OpStatus != execDone || (op.RC != rcOK && op.RC != rcNotRunning) || op.RC != op.Expected() {
			return false
		}
		// Ties keep the later record, as evalHistory's stable sort does.
		if c := callOrder(op); c >= newest {
			newest = c
			stopped = op.RC == rcNotRunning || op.Operation == "stop"
		}
	}
	return stopped
}

// scheduledOp reports whether evalHistory reads records of an operation.
func scheduledOp(name string) bool {
	switch name {
	case "start", "stop", "monitor", "promote", "demote", "migrate_to", "migrate_from":
		return true
	}
	return false
}

// unpackHistory maps one lrm_resource entry to a resource (finding a free
// instance for anonymous clones, or creating an orphan) and records what
// its history says.
func (s *scheduler) unpackHistory(n *node, rid string, h *cib.ResourceHistory, bound map[string]int) {
	base := rid
	if i := strings.LastIndexByte(rid, ':'); i > 0 {
		if _, err := strconv.Atoi(rid[i+1:]); err == nil {
			base = rid[:i]
		}
	}
	if r := s.byID[rid]; r != nil && r.isPrimitive() && r.instance < 0 {
		res := s.evalHistory(r, n, h)
		s.processState(r, n, res)
		return
	}
	clone, member := s.cloneFor(base)
	if clone == nil {
		rep := &resource{id: rid, base: rid, managed: !s.opt.maintenance, threshold: int64(cib.Infinity)}
		res := s.evalHistory(rep, n, h)
		if res.role == roleStarted {
			r := s.newOrphan(rid, h)
			s.processState(r, n, res)
		}
		return
	}
	rep := s.instanceMember(clone.children[0], member)
	if rep == nil {
		return
	}
	res := s.evalHistory(rep, n, h)
	if res.role != roleStarted {
		for _, b := range res.bans {
			b.rsc = clone
			s.bans = append(s.bans, b)
		}
		return
	}
	key := clone.id + "/" + n.name
	idx, ok := bound[key]
	if !ok {
		idx = -1
		for i, inst := range clone.children {
			if !s.instanceBusy(inst) {
				idx = i
				break
			}
		}
		bound[key] = idx
	}
	if idx < 0 {
		// More copies active than clone-max allows: stop the extra one.
		r := s.newOrphan(fmt.Sprintf("%s:%d", base, len(clone.children)+len(s.orphans)), h)
		s.processState(r, n, res)
		return
	}
	r := s.instanceMember(clone.children[idx], member)
	s.processState(r, n, res)
}

// cloneFor finds the clone whose child (or cloned group member) has the
// given base id; member is the primitive id within the child.
func (s *scheduler) cloneFor(base string) (*resource, string) {
	for _, top := range s.tops {
		if top.kind != kClone || len(top.children) == 0 {
			continue
		}
		for _, p := range top.children[0].primitives() {
			if p.base == base {
				return top, base
			}
		}
	}
	return nil, ""
}

// instanceMember returns the primitive with the given base id inside a
// clone instance.
func (s *scheduler) instanceMember(inst *resource, base string) *resource {
	for _, p := range inst.primitives() {
		if p.base == base {
			return p
		}
	}
	return nil
}

// instanceBusy reports whether any primitive of a clone instance is
// already known active somewhere.
func (s *scheduler) instanceBusy(inst *resource) bool {
	for _, p := range inst.primitives() {
		if len(p.active) > 0 {
			return true
		}
	}
	return false
}

// newOrphan adds a resource that runs but is no longer configured; it is
// stopped, as stop-orphan-resources (default true) asks.
func (s *scheduler) newOrphan(id string, h *cib.ResourceHistory) *resource {
	if r := s.byID[id]; r != nil && r.orphan {
		return r
	}
	p := &cib.Primitive{ID: id, Class: h.Class, Provider: h.Provider, Type: h.Type}
	r := &resource{id: id, kind: kPrimitive, prim: p, base: id, instance: -1, pos: len(s.prims),
		managed: !s.opt.maintenance, targetStopped: true, orphan: true, threshold: int64(cib.Infinity)}
	s.byID[id] = r
	s.prims = append(s.prims, r)
	s.tops = append(s.tops, r)
	s.orphans = append(s.orphans, r)
	s.warnf("resource %s is active but no longer configured; it will be stopped", id)
	return r
}

// processState is process_rsc_state: it applies a history's verdict to
// the resource and, with fencing, makes a node unclean when a resource is
// thought active on it while it is offline.
func (s *scheduler) processState(r *resource, n *node, res histResult) {
	known := res.role == roleStarted
	if known && r.stonith && !n.online && !n.unclean {
		// Deviation from Pacemaker: a fencing device runs in the fencer
		// the DC picks, not as a process of the node, so nothing of it
		// is left on a node that has gone cleanly (a DC leaving while
		// it moves the device away): stopped there, not a reason to
		// fence the node.
		known = false
	}
	for _, t := range res.notes {
		r.reasons = append(r.reasons, Reason{Node: n.name, Text: t})
	}
	s.bans = append(s.bans, res.bans...)
	if res.ignored {
		r.ignoreFailure = true
	}
	if known && !n.online && !n.maintenance && r.managed && s.opt.stonith {
		n.markUnclean(r.id + " is thought to be active there")
	}
	of := res.onFail
	if n.unclean {
		of = failIgnore // fencing recovers it; nothing else to do
	}
	switch of {
	case failFence:
		n.markUnclean(r.id + " failed there (on-fail=fence)")
	case failStandby:
		n.standby = true
		if n.reason == "" {
			n.reason = r.id + " failed there (on-fail=standby)"
		}
	case failBlock:
		r.managed = false
	case failBan:
		s.bans = append(s.bans, ban{rsc: r.banTarget(), node: n, score: cib.MinusInfinity,
			text: fmt.Sprintf("%s is banned: %s failed there (on-fail=migrate)", n.name, r.base)})
	case failStop:
		r.statusStopped = true
	}
	if !known {
		return
	}
	r.active = append(r.active, n)
	if n.maintenance {
		r.managed = false
	}
	if of != failIgnore && of != failBlock {
		r.failed = true
	}
}

// evalHistory replays one resource's operations on one node in call
// order, as unpack_lrm_resource and unpack_rsc_op do, and returns the
// resulting role and failure handling.
func (s *scheduler) evalHistory(r *resource, n *node, h *cib.ResourceHistory) histResult {
	ops := s.opsBuf[:0]
	for i := range h.Ops {
		op := &h.Ops[i]
		if !scheduledOp(op.Operation) || op.OpStatus == execCancelled {
			continue
		}
		ops = append(ops, op)
	}
	slices.SortStableFunc(ops, func(a, b *cib.OpRecord) int { return cmp.Compare(callOrder(a), callOrder(b)) })
	s.opsBuf = ops[:0] // reused by the next history; nothing keeps ops

	res := histResult{role: roleUnknown}
	var lastFailure *cib.OpRecord
	for _, op := range ops {
		probe := op.Operation == "monitor" && op.IntervalMS == 0
		// The result the operation was run for: 7 for a probe, 0
		// otherwise, unless the record says (Pacemaker's transition key).
		expected := op.Expected()
		st := remapStatus(op, probe, expected, r.managed)
		if probe && op.RC == rcNotInstalled && st != execPending {
			// A masked probe failure: not running, and banned there.
			res.role = roleStopped
			res.bans = append(res.bans, ban{rsc: r.banTarget(), node: n, score: cib.MinusInfinity,
				text: fmt.Sprintf("%s is banned: the agent of %s is not installed there", n.name, r.base)})
			continue
		}
		if st != execDone && st != execPending && s.opExpired(r, n, op, probe) {
			if op.IntervalMS == 0 || (n.online && !n.unclean) {
				res.notes = append(res.notes, fmt.Sprintf("failed %s on %s expired (failure-timeout %s)",
					opName(op), n.name, r.failureTimeout))
				continue
			}
		}
		switch st {
		case execPending:
			if op.Operation == "start" {
				res.role = roleStarted
			}
		case execDone:
			s.updateState(&res, op, op.RC, lastFailure)
		default:
			of := s.onFailFor(r, op)
			if of == failIgnore {
				s.updateState(&res, op, expected, lastFailure)
				res.ignored = true
				continue
			}
			lastFailure = op
			if res.onFail < of {
				res.onFail = of
			}
			res.notes = append(res.notes, fmt.Sprintf("%s failed on %s (rc %d: %s)", opName(op), n.name, op.RC, rcText(op.RC)))
			if op.Operation == "stop" {
				res.bans = append(res.bans, ban{rsc: r, node: n, score: cib.MinusInfinity,
					text: fmt.Sprintf("%s is banned: stopping %s failed there", n.name, r.base)})
			}
			switch st {
			case execErrorHard, execNotInstalled:
				res.bans = append(res.bans, ban{rsc: r.banTarget(), node: n, score: cib.MinusInfinity,
					text: fmt.Sprintf("%s is banned: %s had a hard error there (rc %d: %s)", n.name, r.base, op.RC, rcText(op.RC))})
			case execErrorFatal:
				res.bans = append(res.bans, ban{rsc: r.banTarget(), score: cib.MinusInfinity,
					text: fmt.Sprintf("banned everywhere: %s had a fatal error on %s (rc %d: %s)", r.base, n.name, op.RC, rcText(op.RC))})
			}
			if res.role < roleStarted {
				res.role = roleStarted
			}
			if of == failStop {
				res.bans = append(res.bans, ban{rsc: r.banTarget(), score: cib.MinusInfinity,
					text: fmt.Sprintf("banned everywhere: %s failed with on-fail=stop", opName(op))})
			}
		}
	}
	return res
}

// updateState is update_resource_state: a successful (or ignored) result
// moves the role, and a completed stop/start or a newer good monitor of
// the failed operation clears a restartable failure.
func (s *scheduler) updateState(res *histResult, op *cib.OpRecord, rc int, lastFailure *cib.OpRecord) {
	clear := false
	switch {
	case rc == rcNotRunning:
		res.role = roleStopped
		clear = true
	case op.Operation == "monitor":
		if lastFailure != nil && lastFailure.Operation == op.Operation && lastFailure.IntervalMS == op.IntervalMS {
			clear = true
		}
		if res.role < roleStarted {
			res.role = roleStarted
		}
	case op.Operation == "start", op.Operation == "promote", op.Operation == "migrate_from":
		res.role = roleStarted
		clear = true
	case op.Operation == "stop":
		res.role = roleStopped
		clear = true
	default: // demote, migrate_to: still active here
		if res.role < roleStarted {
			res.role = roleStarted
		}
	}
	if clear && (res.onFail == failRestart || res.onFail == failBlock || res.onFail == failIgnore) {
		res.onFail = failIgnore
	}
}

// remapStatus is remap_operation: it turns (exec status, rc) into done,
// pending, or a failure of some severity.
func remapStatus(op *cib.OpRecord, probe bool, expected int, managed bool) int {
	switch op.OpStatus {
	case execPending:
		return execPending
	case execDone, execError:
	case execErrorHard, execNotInstalled:
		return execErrorHard
	case execErrorFatal:
		return execErrorFatal
	default:
		return execError
	}
	st := execError
	if op.RC == expected {
		st = execDone
	}
	switch op.RC {
	case rcOK:
		if probe {
			st = execDone // probe found it running
		}
	case rcNotRunning:
		if probe || !managed {
			st = execDone
		}
	case rcRunningPromoted:
		st = execDone
	case rcFailedPromoted:
		st = execError
	case rcNotConfigured:
		st = execErrorFatal
	case rcUnimplemented:
		if op.IntervalMS == 0 {
			st = execErrorHard
		}
	case rcNotInstalled, rcInvalidParam, rcInsufficientPriv:
		st = execErrorHard
	}
	return st
}

// opExpired is check_operation_expiry: a failure older than the
// resource's failure-timeout no longer counts, unless the resource still
// has an unexpired fail count on the node.
func (s *scheduler) opExpired(r *resource, n *node, op *cib.OpRecord, probe bool) bool {
	if r.failureTimeout <= 0 || op.LastRCChange.IsZero() {
		return false
	}
	if s.in.Now.Before(op.LastRCChange.Add(r.failureTimeout)) {
		return false
	}
	if fc, _ := s.failCount(r, n); fc > 0 {
		return false
	}
	return true
}

// onFailFor finds the on-fail of the failed operation: its op definition,
// then op_defaults, then Pacemaker's defaults (fence for a failed stop
// when fencing is enabled, block otherwise; restart for the rest).
func (s *scheduler) onFailFor(r *resource, op *cib.OpRecord) onFail {
	v := ""
	if r.prim != nil {
		for _, o := range r.prim.Ops {
			if o.Name != op.Operation {
				continue
			}
			iv := int64(0)
			if o.Interval != "" {
				if d, err := cib.ParseDuration(o.Interval); err == nil {
					iv = d.Milliseconds()
				}
			}
			if iv == op.IntervalMS {
				v = o.OnFail
				break
			}
		}
	}
	if v == "" {
		v = s.cfg.OpDefaults["on-fail"]
	}
	switch strings.ToLower(v) {
	case "ignore", "nothing":
		return failIgnore
	case "block":
		return failBlock
	case "fence":
		if s.opt.stonith {
			return failFence
		}
		return failStop
	case "standby":
		return failStandby
	case "stop":
		return failStop
	case "migrate":
		return failBan
	case "restart", "demote":
		return failRestart
	}
	if op.Operation == "stop" {
		if s.opt.stonith {
			return failFence
		}
		return failBlock
	}
	return failRestart
}
