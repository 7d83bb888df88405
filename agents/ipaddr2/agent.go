// Package ipaddr2 is a native IPaddr2: it adds and removes a virtual IP
// with netlink, announces it with gratuitous ARP built by hand and sent
// through an AF_PACKET socket, checks presence for monitor, and watches
// netlink address events so that a removed VIP is reported within
// milliseconds. It follows ocf:heartbeat:IPaddr2's semantics (parameters,
// findif's choice of interface and netmask, exit codes), without forking a
// shell, ip(8) and send_arp for every operation.
//
// Every operation runs in the network namespace given in Options (the
// caller's own when empty), so tests and the test bed never touch the
// host's network.
//
// Not implemented (refused with OCF_ERR_UNIMPLEMENTED, use the script):
// cloned CLUSTERIP addresses, lvs_support, mac, flush_routes, run_arping,
// arp_sender and send_arp_opts, network_namespace. IPv6 addresses are
// added and removed but no unsolicited neighbour advertisement is sent.
package ipaddr2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"pacer/agents"
	"pacer/crm/cib"
)

// Options configure the agent.
type Options struct {
	// NetNS is the path of the network namespace to work in
	// (/run/netns/NAME or /proc/PID/ns/net); empty for the caller's.
	NetNS string
	// Name is the agent name reported; ocf:heartbeat:IPaddr2 by default.
	Name   cib.AgentName
	Logger *slog.Logger
	Clock  agents.Clock
}

// Agent is the native IPaddr2. Close it to stop background announcements
// and release its netlink sockets.
type Agent struct {
	opts Options

	mu     sync.Mutex
	h      *netlink.Handle
	bg     map[string]context.CancelFunc // background GARP per address
	wanted map[string]bool               // false after our own Stop
	wg     sync.WaitGroup
	closed bool
}

// New returns an agent.
func New(opts Options) *Agent {
	if opts.Name.Type == "" {
		opts.Name = cib.AgentName{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = agents.SystemClock{}
	}
	return &Agent{opts: opts, bg: map[string]context.CancelFunc{}, wanted: map[string]bool{}}
}

// Name returns the agent name.
func (a *Agent) Name() cib.AgentName { return a.opts.Name }

// Close stops background announcements and closes netlink sockets.
func (a *Agent) Close() error {
	a.mu.Lock()
	a.closed = true
	for k, cancel := range a.bg {
		cancel()
		delete(a.bg, k)
	}
	h := a.h
	a.h = nil
	a.mu.Unlock()
	a.wg.Wait()
	if h != nil {
		h.Close()
	}
	return nil
}

// prepare reads the request's parameters and opens the netlink handle,
// the common start of validate, start and monitor.
func (a *Agent) prepare(req agents.Request) (*config, *netlink.Handle, error) {
	c, err := parseConfig(req.Params, req.Meta)
	if err != nil {
		return nil, nil, err
	}
	h, err := a.handle()
	if err != nil {
		return nil, nil, err
	}
	return c, h, nil
}

// handle returns the netlink handle for the agent's namespace.
func (a *Agent) handle() (*netlink.Handle, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("ipaddr2 agent is closed")
	}
	if a.h != nil {
		return a.h, nil
	}
	var h *netlink.Handle
	var err error
	if a.opts.NetNS == "" {
		h, err = netlink.NewHandle()
	} else {
		var ns netns.NsHandle
		ns, err = netns.GetFromPath(a.opts.NetNS)
		if err != nil {
			return nil, fmt.Errorf("open network namespace %s: %w", a.opts.NetNS, err)
		}
		h, err = netlink.NewHandleAt(ns)
		ns.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("open netlink socket: %w", err)
	}
	a.h = h
	return h, nil
}

// inNetNS runs fn on an OS thread that has entered the agent's network
// namespace, for sockets that are bound to the namespace they are made in
// (AF_PACKET). The thread is thrown away if it cannot be moved back.
func (a *Agent) inNetNS(fn func() error) error {
	if a.opts.NetNS == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("get current network namespace: %w", err)
			return // the thread stays locked and dies with the goroutine
		}
		defer orig.Close()
		target, err := netns.GetFromPath(a.opts.NetNS)
		if err != nil {
			errc <- fmt.Errorf("open network namespace %s: %w", a.opts.NetNS, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", a.opts.NetNS, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

func (a *Agent) setWanted(key string, on bool) {
	a.mu.Lock()
	a.wanted[key] = on
	a.mu.Unlock()
}

// isWanted is false only after this agent stopped the address itself.
func (a *Agent) isWanted(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	on, ok := a.wanted[key]
	return !ok || on
}

// result turns an error into an OCF result.
func result(err error) agents.Result {
	var pe *paramError
	if errors.As(err, &pe) {
		return agents.Done(pe.code, "%s", pe.msg)
	}
	return agents.Failed(agents.ErrGeneric, err)
}

func (a *Agent) timed(start func() agents.Result) agents.Result {
	t0 := a.opts.Clock.Now()
	r := start()
	r.Duration = a.opts.Clock.Now().Sub(t0)
	return r
}

// Validate checks the parameters and that the interface can be found.
func (a *Agent) Validate(_ context.Context, req agents.Request) agents.Result {
	return a.timed(func() agents.Result {
		c, h, err := a.prepare(req)
		if err != nil {
			return result(err)
		}
		if _, err := resolve(h, c, true); err != nil {
			return result(err)
		}
		return agents.Done(agents.OK, "")
	})
}

// Start adds the address (if it is not there yet), brings the interface
// up and announces the address with gratuitous ARP: the first round before
// returning, the rest in the background unless arp_bg is false.
func (a *Agent) Start(ctx context.Context, req agents.Request) agents.Result {
	return a.timed(func() agents.Result {
		c, h, err := a.prepare(req)
		if err != nil {
			return result(err)
		}
		t, err := resolve(h, c, true)
		if err != nil {
			return result(err)
		}
		a.setWanted(c.key(), true)
		ok, err := served(h, c, t)
		if err != nil {
			return result(err)
		}
		name := t.link.Attrs().Name
		if ok {
			return agents.Result{Code: agents.OK, Status: agents.StatusDone,
				Output: fmt.Sprintf("%s already on %s\n", t.ipnet(c), name)}
		}
		addr := &netlink.Addr{IPNet: t.ipnet(c), Label: c.label, Broadcast: t.brd}
		if !c.v6 && addr.Broadcast == nil {
			addr.Broadcast = net.IPv4zero // no broadcast, as `ip addr add` without brd
		}
		if c.noPrefix {
			addr.Flags |= unix.IFA_F_NOPREFIXROUTE
		}
		if c.v6 {
			if c.noDAD {
				addr.Flags |= unix.IFA_F_NODAD
			}
			if c.prefLft >= 0 {
				addr.PreferedLft, addr.ValidLft = c.prefLft, int(^uint32(0))
			}
		}
		if err := h.AddrAdd(t.link, addr); err != nil {
			return agents.Done(agents.ErrGeneric, "Failed to add %s to %s: %v", addr.IPNet, name, err)
		}
		if err := h.LinkSetUp(t.link); err != nil {
			return agents.Done(agents.ErrGeneric, "Failed to bring %s up: %v", name, err)
		}
		out := fmt.Sprintf("added %s to %s\n", addr.IPNet, name)
		if !c.v6 && c.arpCount > 0 && arpable(t.link) {
			sent, err := a.announce(ctx, c, t.link, c.arpCount)
			if err != nil {
				a.opts.Logger.Warn("gratuitous ARP failed", "resource", req.Resource, "ip", c.ip, "err", err)
				out += fmt.Sprintf("gratuitous ARP failed: %v\n", err)
			} else {
				out += fmt.Sprintf("sent %d gratuitous ARP round(s) on %s\n", sent, name)
			}
		}
		a.opts.Logger.Info("VIP added", "resource", req.Resource, "ip", addr.IPNet, "nic", name)
		return agents.Result{Code: agents.OK, Status: agents.StatusDone, Output: out}
	})
}

// announce sends the first GARP round now and count-1 more, arp_interval
// apart, either before returning or (arp_bg) in a goroutine that Stop and
// Close cancel. It returns how many rounds were sent before it returned.
func (a *Agent) announce(ctx context.Context, c *config, l netlink.Link, count int) (int, error) {
	s, err := a.newGARPSender(l, c.ip)
	if err != nil {
		return 0, err
	}
	if !c.arpBG || count == 1 {
		defer a.closeAsync(s)
		return s.rounds(ctx, count, c.arpIntvl)
	}
	if err := s.round(); err != nil {
		a.closeAsync(s)
		return 0, err
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		a.closeAsync(s)
		return 1, nil
	}
	if cancel := a.bg[c.key()]; cancel != nil {
		cancel()
	}
	bctx, cancel := context.WithCancel(context.Background())
	a.bg[c.key()] = cancel
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		defer s.Close()
		if _, err := s.rounds(bctx, count, c.arpIntvl); err != nil {
			a.opts.Logger.Warn("background gratuitous ARP failed", "ip", c.ip, "err", err)
		}
		cancel()
	}()
	return 1, nil
}

// closeAsync closes a packet socket without waiting: the kernel's
// AF_PACKET release waits for an RCU grace period (about 10 ms), which a
// start should not pay. Close waits for it.
func (a *Agent) closeAsync(s *garpSender) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed { // Close is waiting on wg: no new goroutine
		_ = s.Close()
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_ = s.Close()
	}()
}

func (a *Agent) stopAnnouncing(key string) {
	a.mu.Lock()
	if cancel := a.bg[key]; cancel != nil {
		cancel()
		delete(a.bg, key)
	}
	a.mu.Unlock()
}

// Stop removes the address. A stop of an address that is not there, or
// whose interface or route cannot be found, succeeds, as with the script.
func (a *Agent) Stop(_ context.Context, req agents.Request) agents.Result {
	return a.timed(func() agents.Result {
		c, err := parseConfig(req.Params, req.Meta)
		if err != nil {
			return agents.Done(agents.OK, "nothing to stop: %v", err)
		}
		a.stopAnnouncing(c.key())
		a.setWanted(c.key(), false)
		h, err := a.handle()
		if err != nil {
			return result(err)
		}
		t, err := resolve(h, c, false)
		if err != nil {
			var pe *paramError
			if errors.As(err, &pe) {
				return agents.Done(agents.OK, "nothing to stop: %s", pe.msg)
			}
			return result(err)
		}
		ok, err := served(h, c, t)
		if err != nil {
			return result(err)
		}
		if !ok {
			return agents.Done(agents.OK, "")
		}
		n := t.ipnet(c)
		if err := h.AddrDel(t.link, &netlink.Addr{IPNet: n}); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return agents.Done(agents.ErrGeneric, "Unable to remove IP [%s] from interface [%s]: %v", c.ip, t.link.Attrs().Name, err)
		}
		a.opts.Logger.Info("VIP removed", "resource", req.Resource, "ip", n, "nic", t.link.Attrs().Name)
		return agents.Result{Code: agents.OK, Status: agents.StatusDone,
			Output: fmt.Sprintf("removed %s from %s\n", n, t.link.Attrs().Name)}
	})
}

// Monitor reports OK when the address is on its interface, NotRunning
// when not. A probe whose interface or route cannot be found is
// NotRunning; a recurring monitor reports the error.
func (a *Agent) Monitor(_ context.Context, req agents.Request) agents.Result {
	return a.timed(func() agents.Result {
		c, h, err := a.prepare(req)
		if err != nil {
			return result(err)
		}
		t, err := resolve(h, c, false)
		if err != nil {
			if req.Interval == 0 {
				return agents.Done(agents.NotRunning, "%v", err)
			}
			return result(err)
		}
		ok, err := served(h, c, t)
		if err != nil {
			return result(err)
		}
		if !ok {
			return agents.Done(agents.NotRunning, "")
		}
		if c.refresh > 0 && !c.v6 && arpable(t.link) {
			if _, err := a.announce(context.Background(), c, t.link, c.refresh); err != nil {
				a.opts.Logger.Warn("refresh gratuitous ARP failed", "ip", c.ip, "err", err)
			}
		}
		return agents.Done(agents.OK, "")
	})
}
