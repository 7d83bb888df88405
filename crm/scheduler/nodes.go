package scheduler

import (
	"fmt"
	"strconv"
	"strings"

	"pacer/crm/cib"
)

// unpackNodes derives every configured node's state from its node_state
// entry, following Pacemaker's determine_online_status. The rules are
// listed in doc.go; the short version is that a node is online when it is
// in the membership, its daemon answers and it has joined, and it is
// unclean (to be fenced) whenever it may still be running resources
// without the cluster being able to talk to it.
//
// Status entries for nodes that are not configured are ignored, as
// Pacemaker ignores node_state of removed nodes.
func (s *scheduler) unpackNodes() error {
	s.nodeByName = make(map[string]*node, len(s.cfg.Nodes))
	for i, cn := range s.cfg.Nodes {
		if cn.Name == "" {
			return fmt.Errorf("%w: node %q has no name", ErrInvalidCIB, cn.ID)
		}
		if s.nodeByName[cn.Name] != nil {
			return fmt.Errorf("%w: node %q is configured twice", ErrInvalidCIB, cn.Name)
		}
		n := &node{idx: i, name: cn.Name, id: cn.ID}
		s.nodes = append(s.nodes, n)
		s.nodeByName[cn.Name] = n
		s.unpackNode(n, cn, s.in.CIB.Status.Nodes[cn.Name])
	}
	for _, name := range sortedKeys(s.in.CIB.Status.Nodes) {
		if s.nodeByName[name] == nil {
			s.warnf("ignoring status of node %s, which is not configured", name)
		}
	}
	return nil
}

func (s *scheduler) unpackNode(n *node, cn cib.Node, ns *cib.NodeStatus) {
	n.attrs = make(map[string]string, len(cn.Attributes)+4)
	for k, v := range cn.Attributes {
		n.attrs[k] = v
	}
	if ns != nil {
		for k, v := range ns.Attributes {
			n.attrs[k] = v
		}
	}
	n.attrs["#uname"] = n.name
	n.attrs["#id"] = n.id
	n.attrs["#kind"] = "cluster"
	n.standby = cib.IsTrue(n.attrs["standby"])
	n.maintenance = cib.IsTrue(n.attrs["maintenance"])

	if ns == nil {
		// Startup fencing: a node never seen may be running anything.
		n.markUnclean("it has never been seen by the cluster")
	} else {
		n.seen = true
		n.expectedUp = ns.Expected == "member"
		n.shutdown = attrSet(n.attrs["shutdown"])
		if s.opt.stonith {
			s.onlineWithFencing(n, ns)
		} else {
			s.onlineWithoutFencing(n, ns)
		}
		if ns.Unclean {
			n.markUnclean("its status is marked unclean")
		}
	}
	if !s.in.Quorum && s.opt.noQuorumPolicy == "suicide" && n.online {
		n.markUnclean("the cluster does not have quorum (no-quorum-policy=suicide)")
	}
}

// onlineWithFencing is determine_online_status_fencing: with fencing
// available, any doubt about a node makes it unclean so that it is shot
// before its resources are recovered elsewhere.
func (s *scheduler) onlineWithFencing(n *node, ns *cib.NodeStatus) {
	terminate := attrSet(n.attrs["terminate"])
	n.online = ns.InCCM
	switch {
	case n.shutdown:
		// A node shutting down is trusted to stop its own resources.
		n.online = ns.Crmd
	case ns.Join == "banned":
		n.markUnclean("it failed the membership criteria")
	case terminate:
		if !ns.InCCM && !ns.Crmd && ns.Join == "down" {
			n.online = false // fenced as requested
			n.reason = "fenced as requested"
		} else {
			n.markUnclean("fencing was requested")
		}
	case ns.Expected != "member":
		if ns.InCCM || ns.Crmd {
			n.pending = true
			n.reason = "it is still joining"
		} else {
			n.reason = "it left the cluster cleanly"
		}
	case !ns.InCCM:
		n.markUnclean("it is no longer part of the cluster")
	case !ns.Crmd:
		n.markUnclean("its cluster daemon is no longer available")
	case ns.Join == "member":
		// active
	case ns.Join == "pending" || ns.Join == "down" || ns.Join == "":
		n.pending = true
		n.reason = "it has not joined yet"
	default:
		n.markUnclean(fmt.Sprintf("it is in an unknown state (join=%s)", ns.Join))
	}
}

// onlineWithoutFencing is determine_online_status_no_fencing: without
// fencing a lost node is simply offline and its resources are assumed
// stopped (status.go does not read its history).
func (s *scheduler) onlineWithoutFencing(n *node, ns *cib.NodeStatus) {
	switch {
	case !ns.InCCM:
		n.reason = "it is not in the membership"
	case ns.Crmd:
		if ns.Join == "member" {
			n.online = true
		} else {
			n.reason = "it has not joined yet"
		}
	case !n.expectedUp:
		n.reason = "its cluster daemon is down"
	default:
		n.markUnclean("it is unexpectedly down")
	}
}

// markUnclean records the first reason a node became unclean, as
// pe_fence_node does.
func (n *node) markUnclean(reason string) {
	if n.unclean {
		return
	}
	n.unclean = true
	n.reason = reason
}

// attrSet reads attributes like shutdown and terminate, which hold
// either a boolean or a timestamp (non-zero means set).
func attrSet(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i > 0
	}
	return cib.IsTrue(v)
}

// nodeStates renders the node table of the transition.
func (s *scheduler) nodeStates() []NodeState {
	out := make([]NodeState, len(s.nodes))
	for i, n := range s.nodes {
		out[i] = NodeState{
			Name: n.name, Online: n.online, Unclean: n.unclean, Fenced: n.fence,
			Standby: n.standby, Maintenance: n.maintenance, Pending: n.pending,
			Shutdown: n.shutdown, Reason: n.reason,
		}
	}
	return out
}
