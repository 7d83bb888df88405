package ipaddr2

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"pacer/agents"
)

// Watch subscribes to netlink address events (RTNLGRP_IPV4_IFADDR and
// RTNLGRP_IPV6_IFADDR) in the agent's namespace and reports the removal of
// the VIP from its interface (an `ip addr del`, the interface going away)
// the moment the kernel announces it, and its return. Removals done by
// this agent's own Stop are not reported. If the address is already gone
// when the subscription is in place, a failure is sent at once: the caller
// watches resources it believes to be running.
func (a *Agent) Watch(ctx context.Context, req agents.Request) (<-chan agents.Event, error) {
	c, err := parseConfig(req.Params, req.Meta)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", req.Resource, err)
	}
	h, err := a.handle()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", req.Resource, err)
	}
	t, err := resolve(h, c, false)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", req.Resource, err)
	}
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	opts := netlink.AddrSubscribeOptions{
		ErrorCallback: func(err error) {
			a.opts.Logger.Debug("netlink address subscription", "resource", req.Resource, "err", err)
		},
		ReceiveBufferSize: 1 << 20,
	}
	if a.opts.NetNS != "" {
		ns, err := netns.GetFromPath(a.opts.NetNS)
		if err != nil {
			return nil, fmt.Errorf("watch %s: open network namespace %s: %w", req.Resource, a.opts.NetNS, err)
		}
		defer ns.Close() // the socket keeps the namespace once made
		opts.Namespace = &ns
	}
	if err := netlink.AddrSubscribeWithOptions(updates, done, opts); err != nil {
		return nil, fmt.Errorf("watch %s: subscribe to netlink address events: %w", req.Resource, err)
	}
	up, err := served(h, c, t)
	if err != nil {
		close(done)
		go drain(updates)
		return nil, fmt.Errorf("watch %s: %w", req.Resource, err)
	}
	w := &addrWatch{a: a, c: c, t: t, res: req.Resource, index: t.link.Attrs().Index, nic: t.link.Attrs().Name,
		out: make(chan agents.Event, 8)}
	go w.loop(ctx, updates, done, up)
	return w.out, nil
}

type addrWatch struct {
	a     *Agent
	c     *config
	t     *target
	res   string
	index int
	nic   string
	out   chan agents.Event
	down  bool // a failure was reported and not yet followed by OK
}

func (w *addrWatch) loop(ctx context.Context, updates <-chan netlink.AddrUpdate, done chan struct{}, up bool) {
	defer close(w.out)
	stop := func() {
		close(done)
		drain(updates)
	}
	ipnet := w.t.ipnet(w.c)
	if !up && w.a.isWanted(w.c.key()) {
		if !w.send(ctx, agents.NotRunning, fmt.Sprintf("address %s is not on %s", ipnet, w.nic)) {
			stop()
			return
		}
		w.down = true
	}
	for {
		select {
		case <-ctx.Done():
			stop()
			return
		case u, ok := <-updates:
			if !ok {
				return // the subscription died: the caller falls back to monitors
			}
			ones, _ := u.LinkAddress.Mask.Size()
			if u.LinkIndex != w.index || !u.LinkAddress.IP.Equal(w.c.ip) || ones != w.t.prefix {
				continue
			}
			var sent bool
			switch {
			case !u.NewAddr && up:
				up = false
				if !w.a.isWanted(w.c.key()) {
					continue // our own Stop
				}
				sent = w.send(ctx, agents.NotRunning, fmt.Sprintf("address %s removed from %s", ipnet, w.nic))
				w.down = true
			case u.NewAddr && !up:
				up = true
				if !w.down {
					continue
				}
				w.down = false
				sent = w.send(ctx, agents.OK, fmt.Sprintf("address %s back on %s", ipnet, w.nic))
			default:
				continue
			}
			if !sent {
				stop()
				return
			}
		}
	}
}

func (w *addrWatch) send(ctx context.Context, code agents.Code, reason string) bool {
	ev := agents.Event{Resource: w.res, Code: code, Reason: reason, At: w.a.opts.Clock.Now()}
	select {
	case w.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// drain empties the subscription channel until netlink closes it, so its
// receiving goroutine never blocks on a send.
func drain(ch <-chan netlink.AddrUpdate) {
	for range ch {
	}
}
