package main

import (
	"fmt"
	"sort"
	"time"

	"pacer/crm/cib"
	"pacer/test/clusterbed"
)

// timelineMsgs are the pacerd log lines that mark a step of a failover.
var timelineMsgs = map[string]bool{
	"node suspect": true, "node down": true, "node up": true,
	"gossip: member is no longer suspect: it was neither declared down nor failed a probe again": true,
	"this node is the DC: controller started":                                                    true,
	"fencing node": true, "transition": true, "action": true,
	"operation": true, "operation failed": true,
	"configuration or membership changed: finishing the running actions, then recomputing": true,
	"an action failed; pausing before the next transition":                                 true,
	"action failed; the transition stops here":                                             true,
	"DC round failed; retrying":                                                            true,
}

// timeline merges the nodes' pacerd logs, the fence history and the
// client's view of one trial into events relative to the fault, and
// picks the milestones: detected, fenced, stopped, started, answering.
func (r *fbRun) timeline(fault string, victim *clusterbed.Node, t0 time.Time, co clientOutage, fence *cib.FenceEvent) ([]tlEvent, []milestone) {
	rel := func(t time.Time) float64 { return ms(t.Sub(t0)) }
	answered := co.answered
	if !co.failed {
		answered = t0
	}
	until := answered.Add(300 * time.Millisecond)
	evs := []tlEvent{{MS: 0, Node: victim.Name, Event: "fault: " + fault}}
	var lines []clusterbed.LogLine
	for _, n := range r.b.Nodes {
		// Log stamps have millisecond precision: a line of the fault's
		// own millisecond may carry a stamp just before t0.
		lines = append(lines, n.LogSince(t0.Add(-time.Millisecond))...)
	}
	marks := map[string]time.Time{}
	mark := func(name string, at time.Time) {
		if _, ok := marks[name]; !ok {
			marks[name] = at
		}
	}
	for _, l := range lines {
		if l.At.After(until) || !timelineMsgs[l.Msg] {
			continue
		}
		f := l.Fields
		// Probes and repeats of the monitors that keep running are noise.
		if l.Msg == "operation" && f["op"] == "monitor" && f["rc"] != "7" && f["rc"] != "1" {
			continue
		}
		text := l.Msg
		switch l.Msg {
		case "node suspect", "node down", "node up":
			if f["peer"] != victim.Name {
				continue
			}
			text += " " + f["peer"]
			if l.Msg == "node down" {
				mark("detected", l.At)
			}
		case "fencing node":
			text += " " + f["target"]
			mark("fencing", l.At)
		case "transition":
			text += fmt.Sprintf(" %s actions: %s", f["actions"], f["steps"])
			if fault == "standby" {
				mark("detected", l.At)
			}
		case "action":
			text = "do " + f["do"]
		case "operation", "operation failed":
			text = fmt.Sprintf("%s %s %s rc=%s (%s ms)", l.Msg, f["op"], f["rsc"], f["rc"], f["exec_ms"])
			if l.Msg == "operation failed" {
				text = fmt.Sprintf("%s %s %s rc=%s: %s", l.Msg, f["op"], f["rsc"], f["rc"], f["reason"])
			}
			switch {
			case f["op"] == "monitor" && f["rc"] != "0" && fault == "haproxy-kill":
				mark("detected", l.At)
			case f["op"] == "stop" && f["rc"] == "0":
				marks["stopped"] = l.At
			case f["op"] == "start" && f["rc"] == "0" && f["rsc"] == "haproxy":
				marks["started"] = l.At
			}
		default:
			if e := f["err"]; e != "" {
				text += ": " + e
			}
		}
		evs = append(evs, tlEvent{MS: rel(l.At), Node: l.Node, Event: text})
	}
	if fence != nil {
		evs = append(evs,
			tlEvent{MS: rel(fence.Start), Node: fence.Executor, Event: fmt.Sprintf("fence %s %s via %s: started", fence.Action, fence.Target, fence.Device)},
			tlEvent{MS: rel(fence.Completion), Node: fence.Executor, Event: fmt.Sprintf("fence %s %s: confirmed (%v)", fence.Action, fence.Target, fence.Duration.Round(time.Millisecond))})
		marks["fenced"] = fence.Completion
	}
	if co.failed {
		evs = append(evs,
			tlEvent{MS: rel(co.lastOK), Event: "client: last answer before the outage"},
			tlEvent{MS: rel(co.failure), Event: "client: first failed request"},
			tlEvent{MS: rel(answered), Event: "client answered again: " + co.body})
		marks["answering"] = answered
	} else {
		evs = append(evs, tlEvent{MS: 0, Event: "the client saw no outage"})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].MS < evs[j].MS })
	var out []milestone
	for _, name := range []string{"detected", "fencing", "fenced", "stopped", "started", "answering"} {
		if at, ok := marks[name]; ok && !at.After(until) {
			out = append(out, milestone{Name: name, MS: rel(at)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].MS < out[j].MS })
	return evs, out
}
