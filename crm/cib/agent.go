package cib

import (
	"fmt"
	"sort"
	"strings"
)

// AgentName is a resource agent in Pacemaker's class:provider:type form.
type AgentName struct {
	Class    string `json:"class"`
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type"`
}

// String prints the full form, e.g. "ocf:heartbeat:IPaddr2" or "systemd:haproxy".
func (a AgentName) String() string {
	if a.Provider != "" {
		return a.Class + ":" + a.Provider + ":" + a.Type
	}
	return a.Class + ":" + a.Type
}

// Classes are the agent standards pacer knows. Only ocf takes a provider.
var Classes = map[string]bool{"ocf": true, "systemd": true, "service": true, "lsb": true, "stonith": true}

// KnownAgents lists agents pacer resolves short names against when no live
// agent listing is at hand (pcs resolves against installed agents; this
// table is the set pacer ships or tests with). Keep sorted by full name.
var KnownAgents = []AgentName{
	{"ocf", "heartbeat", "Dummy"},
	{"ocf", "heartbeat", "Filesystem"},
	{"ocf", "heartbeat", "IPaddr"},
	{"ocf", "heartbeat", "IPaddr2"},
	{"ocf", "heartbeat", "IPsrcaddr"},
	{"ocf", "heartbeat", "LVM-activate"},
	{"ocf", "heartbeat", "apache"},
	{"ocf", "heartbeat", "mysql"},
	{"ocf", "heartbeat", "nfsserver"},
	{"ocf", "heartbeat", "nginx"},
	{"ocf", "heartbeat", "pgsql"},
	{"ocf", "pacemaker", "Dummy"},
	{"ocf", "pacemaker", "Stateful"},
	{"ocf", "pacemaker", "attribute"},
	{"ocf", "pacemaker", "ping"},
}

// ParseAgent resolves what a user typed into a full agent name, as pcs
// does: "ocf:heartbeat:IPaddr2" and "systemd:haproxy" are taken as they
// are; a bare "IPaddr2" is looked up in known (KnownAgents when nil) and
// must match exactly one agent. "stonith:" is not accepted here for
// resources; pass stonith=true for devices (pcs stonith create).
func ParseAgent(s string, known []AgentName) (AgentName, error) {
	if known == nil {
		known = KnownAgents
	}
	parts := strings.Split(strings.TrimSpace(s), ":")
	for _, p := range parts {
		if p == "" {
			return AgentName{}, fmt.Errorf("agent %q: empty part; use class:provider:type (ocf:heartbeat:IPaddr2) or class:type (systemd:haproxy)", s)
		}
	}
	switch len(parts) {
	case 3:
		if parts[0] != "ocf" {
			return AgentName{}, fmt.Errorf("agent %q: only the ocf class has a provider; use %s:%s", s, parts[0], parts[2])
		}
		return AgentName{Class: "ocf", Provider: parts[1], Type: parts[2]}, nil
	case 2:
		if parts[0] == "ocf" {
			return AgentName{}, fmt.Errorf("agent %q: ocf agents need a provider; use ocf:heartbeat:%s or ocf:pacemaker:%s", s, parts[1], parts[1])
		}
		if !Classes[parts[0]] {
			return AgentName{}, fmt.Errorf("agent %q: unknown class %q; use one of %s", s, parts[0], classList())
		}
		return AgentName{Class: parts[0], Type: parts[1]}, nil
	case 1:
		var match []AgentName
		for _, a := range known {
			if strings.EqualFold(a.Type, parts[0]) {
				match = append(match, a)
			}
		}
		switch len(match) {
		case 1:
			return match[0], nil
		case 0:
			return AgentName{}, fmt.Errorf("agent %q not found; give the full name, e.g. ocf:heartbeat:%s or systemd:%s", s, parts[0], parts[0])
		}
		names := make([]string, len(match))
		for i, m := range match {
			names[i] = m.String()
		}
		return AgentName{}, fmt.Errorf("agent %q matches several agents (%s); give the full name", s, strings.Join(names, ", "))
	}
	return AgentName{}, fmt.Errorf("agent %q: too many parts; use class:provider:type or class:type", s)
}

func classList() string {
	var c []string
	for k := range Classes {
		c = append(c, k)
	}
	sort.Strings(c)
	return strings.Join(c, ", ")
}
