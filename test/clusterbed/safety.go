package clusterbed

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
)

// Violation is an instant at which a VIP or a unit was active on two
// nodes of which neither had been fenced (nor otherwise died).
type Violation struct {
	At    time.Time
	What  string   // "10.78.0.100" or "haproxy.service"
	Nodes []string // the holders
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s active on %s", v.At.Format("15:04:05.000"), v.What, strings.Join(v.Nodes, " and "))
}

// Safety samples every node and records violations of pacer's safety
// invariant. Each round reads, for each running node, the addresses on
// its eth0 (netlink in the node's namespace) and whether each unit has a
// live process (the unit's cgroup). Rounds are not atomic across nodes:
// a node whose incarnation (PID 1 and its start time) ended by the end
// of the round is dropped from it, since it was fenced or killed while
// the round ran, which is the one way the invariant allows a second
// holder.
type Safety struct {
	bed   *Bed
	vips  []netip.Addr
	units []string

	mu         sync.Mutex
	violations []Violation
	rounds     int
	stop       chan struct{}
	done       chan struct{}
}

// WatchSafety starts sampling every interval (10 ms when zero) until
// Stop.
func (b *Bed) WatchSafety(vips []string, units []string, interval time.Duration) (*Safety, error) {
	if interval <= 0 {
		interval = 10 * time.Millisecond
	}
	s := &Safety{bed: b, units: units, stop: make(chan struct{}), done: make(chan struct{})}
	for _, v := range vips {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, err
		}
		s.vips = append(s.vips, a)
	}
	go s.loop(interval)
	return s, nil
}

type incarnation struct {
	pid   int
	start uint64
}

func (n *Node) incarnation() (incarnation, bool) {
	pid, err := n.InitPID()
	if err != nil {
		return incarnation{}, false
	}
	return incarnation{pid, startTime(pid)}, true
}

func (s *Safety) loop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.round()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func (s *Safety) round() {
	at := time.Now()
	holders := map[string][]string{}
	type seen struct {
		n    *Node
		inc  incarnation
		what []string
	}
	var round []seen
	for _, n := range s.bed.Nodes {
		inc, ok := n.incarnation()
		if !ok {
			continue
		}
		var what []string
		for _, a := range nodeAddrs(inc.pid) {
			for _, v := range s.vips {
				if a == v {
					what = append(what, v.String())
				}
			}
		}
		for _, u := range s.units {
			if len(n.UnitPIDs(u)) > 0 {
				what = append(what, u)
			}
		}
		round = append(round, seen{n, inc, what})
	}
	for _, r := range round {
		if now, ok := r.n.incarnation(); !ok || now != r.inc {
			continue
		}
		for _, w := range r.what {
			holders[w] = append(holders[w], r.n.Name)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rounds++
	for w, ns := range holders {
		if len(ns) > 1 {
			s.violations = append(s.violations, Violation{At: at, What: w, Nodes: ns})
		}
	}
}

// nodeAddrs lists the IPv4 addresses on eth0 in pid's network namespace.
func nodeAddrs(pid int) []netip.Addr {
	ns, err := vnetns.GetFromPath(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil
	}
	defer h.Close()
	link, err := h.LinkByName("eth0")
	if err != nil {
		return nil
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok {
			out = append(out, ip)
		}
	}
	return out
}

// Addrs are the IPv4 addresses on the node's eth0 (none when it is off).
func (n *Node) Addrs() []string {
	pid, err := n.InitPID()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range nodeAddrs(pid) {
		out = append(out, a.String())
	}
	return out
}

// Stop ends the sampling and returns the violations seen.
func (s *Safety) Stop() []Violation {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	return s.Violations()
}

// Violations returns the violations so far.
func (s *Safety) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Violation(nil), s.violations...)
}

// Rounds is the number of complete samples taken.
func (s *Safety) Rounds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rounds
}
