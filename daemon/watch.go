package daemon

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"pacer/api"
)

// changes fans "something changed" signals out to API watchers. A slow
// watcher never blocks the daemon: its signal coalesces.
type changes struct {
	mu   sync.Mutex
	subs map[chan string]struct{}
}

func (c *changes) subscribe() (chan string, func()) {
	ch := make(chan string, 8)
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[chan string]struct{}{}
	}
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

func (c *changes) publish(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- kind:
		default:
		}
	}
}

// watchPing is how often an idle watch stream says it is alive, so a
// client notices a dead connection.
const watchPing = 5 * time.Second

// handleWatch streams one JSON object per line: "cib" after every CIB
// change this node applies, "members" after a gossip change, "ping" when
// idle. Clients re-read what they show (status, CIB) on each event.
func (d *Daemon) handleWatch(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeErr(w, &api.Error{Code: api.CodeInternal, Message: "streaming is not supported on this connection"})
		return
	}
	cibCh, cancelCIB := d.st.Subscribe()
	defer cancelCIB()
	memCh, cancelMem := d.changes.subscribe()
	defer cancelMem()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(kind string) bool {
		c, idx := d.st.Read()
		if err := enc.Encode(api.WatchEvent{Type: kind, Node: d.cfg.NodeName, Version: c.Version, Index: idx}); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send("hello") {
		return
	}
	ping := time.NewTicker(watchPing)
	defer ping.Stop()
	for {
		var kind string
		select {
		case <-r.Context().Done():
			return
		case <-d.done:
			return
		case _, ok := <-cibCh:
			if !ok {
				return
			}
			kind = "cib"
		case kind = <-memCh:
		case <-ping.C:
			kind = "ping"
		}
		if !send(kind) {
			return
		}
	}
}
