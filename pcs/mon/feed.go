package mon

import (
	"context"
	"errors"
	"time"

	"pacer/api"
)

// Source is the part of the API client the feed uses.
type Source interface {
	Status(ctx context.Context) (*api.StatusResponse, error)
	Watch(ctx context.Context) (<-chan api.WatchEvent, error)
}

// Backoff bounds the wait between reconnection attempts: it starts at
// First and doubles up to Max while the node stays unreachable.
type Backoff struct{ First, Max time.Duration }

// DefaultBackoff is quick to notice a restarted node, gentle on one
// that stays away.
var DefaultBackoff = Backoff{First: 250 * time.Millisecond, Max: 5 * time.Second}

// quietLimit: the node pings an idle stream every 5 s; three missed
// pings mean the node is frozen or cut off, not merely idle.
const quietLimit = 15 * time.Second

// Feed sends a SnapshotMsg whenever the node reports a change (and once
// on connecting), and a ConnMsg when the connection drops or comes back,
// until ctx ends. Changes that arrive while a status is being read are
// folded into one more read, so a burst costs two reads, not one each.
func Feed(ctx context.Context, src Source, b Backoff, send func(any)) {
	wait := b.First
	for ctx.Err() == nil {
		err := follow(ctx, src, send, func() { wait = b.First })
		if ctx.Err() != nil {
			return
		}
		send(ConnMsg{Err: err, Retry: wait})
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, b.Max)
	}
}

// follow reads one watch stream until it ends, and says why it ended.
func follow(ctx context.Context, src Source, send func(any), connected func()) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := src.Watch(cctx)
	if err != nil {
		return err
	}
	quiet := time.NewTimer(quietLimit)
	defer quiet.Stop()
	first := true
	for {
		var ev api.WatchEvent
		var ok bool
		select {
		case ev, ok = <-events:
		case <-quiet.C:
			return errors.New("the node stopped answering (no ping for 15s)")
		}
		if !ok {
			return errors.New("the watch stream ended")
		}
		quiet.Reset(quietLimit)
		if ev.Type == "ping" {
			continue
		}
	drain:
		for {
			select {
			case _, ok := <-events:
				if !ok {
					break drain
				}
			default:
				break drain
			}
		}
		rctx, rcancel := context.WithTimeout(cctx, 5*time.Second)
		st, err := src.Status(rctx)
		rcancel()
		if err != nil {
			return err
		}
		if first {
			first = false
			connected()
			send(ConnMsg{})
		}
		send(SnapshotMsg{Status: st, At: time.Now()})
	}
}
