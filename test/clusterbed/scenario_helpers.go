package clusterbed

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pacer/crm/cib"
)

// Neighbour is the client's neighbour entry for ip on its eth0: the MAC
// it would send to and the entry's state (REACHABLE, STALE, ...); both
// empty when it has none.
func (c *Client) Neighbour(ip string) (mac, state string, err error) {
	return c.netns().NeighbourOn("eth0", ip)
}

// CIB reads the CIB as the node holds it.
func (n *Node) CIB(ctx context.Context) (*cib.CIB, error) {
	cl, err := n.API()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	cx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	x, err := cl.CIB(cx, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return x.CIB, nil
}

// FailCount sums rsc's fail counts on node (every operation), as the
// node's CIB has them.
func FailCount(x *cib.CIB, rsc, node string) int {
	ns := x.Status.Nodes[node]
	if ns == nil {
		return 0
	}
	total := 0
	for k, v := range ns.Attributes {
		if !strings.HasPrefix(k, "fail-count-"+rsc+"#") {
			continue
		}
		if v == "INFINITY" || v == "+INFINITY" {
			return int(cib.Infinity)
		}
		if c, err := strconv.Atoi(v); err == nil {
			total += c
		}
	}
	return total
}

// FencedSince returns the fence history's successful off or reboot of
// node that completed at or after since, if there is one.
func FencedSince(x *cib.CIB, node string, since time.Time) (cib.FenceEvent, bool) {
	for _, e := range x.FenceHistory {
		if e.Target == node && e.Result == "ok" && (e.Action == "off" || e.Action == "reboot") && !e.Completion.Before(since) {
			return e, true
		}
	}
	return cib.FenceEvent{}, false
}
