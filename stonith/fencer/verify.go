package fencer

import (
	"context"
	"fmt"
	"time"

	"pacer/crm/cib"
	"pacer/stonith"
)

// Check is one line of a pre-flight: a device, or a node, and whether
// fencing would work for it, with what to do when it would not.
type Check struct {
	Device string `json:"device,omitempty"`
	Node   string `json:"node,omitempty"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Verify checks, without fencing anything, that every device answers
// (monitor and, where it can, list) and that every configured node can be
// reached by some device ('pcsctl stonith verify').
func (f *Fencer) Verify(ctx context.Context, cur *cib.CIB) []Check {
	var out []Check
	devs := stonithDevices(cur)
	if len(devs) == 0 {
		return []Check{{OK: false, Detail: "no fencing device is configured: create one with 'pcsctl stonith create'"}}
	}
	listed := map[string][]string{}
	for _, p := range devs {
		spec, err := f.spec(ctx, p)
		if err != nil {
			out = append(out, Check{Device: p.ID, Detail: err.Error()})
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		start := time.Now()
		err = spec.Device.Monitor(cctx)
		if err != nil {
			cancel()
			out = append(out, Check{Device: p.ID, Detail: fmt.Sprintf("does not answer: %v", err)})
			continue
		}
		detail := fmt.Sprintf("answers (%v)", time.Since(start).Round(time.Millisecond))
		if targets, err := spec.Device.List(cctx); err == nil {
			for _, t := range targets {
				listed[p.ID] = append(listed[p.ID], t.Name, t.UUID, t.Alias)
			}
			detail += fmt.Sprintf(", lists %d targets", len(targets))
		}
		cancel()
		out = append(out, Check{Device: p.ID, OK: true, Detail: detail})
	}
	for _, n := range cur.Config.Nodes {
		var by []string
		for _, p := range devs {
			spec, err := f.spec(ctx, p)
			if err != nil {
				continue
			}
			switch spec.Targeting.Check(n.Name) {
			case stonith.Eligible:
				by = append(by, fmt.Sprintf("%s (plug %s)", p.ID, spec.Targeting.Plug(n.Name)))
			case stonith.NeedList:
				if spec.Targeting.Listed(n.Name, listed[p.ID]) {
					by = append(by, p.ID+" (in its list)")
				}
			case stonith.NeedStatus:
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				if _, err := spec.Device.Status(cctx, spec.Targeting.Plug(n.Name)); err == nil {
					by = append(by, p.ID+" (status answers)")
				}
				cancel()
			}
		}
		if len(by) == 0 {
			out = append(out, Check{Node: n.Name, Detail: "no device can fence it: add it to a device's pcmk_host_map (node:domain) or pcmk_host_list"})
			continue
		}
		out = append(out, Check{Node: n.Name, OK: true, Detail: fmt.Sprintf("fenceable by %v", by)})
	}
	return out
}
