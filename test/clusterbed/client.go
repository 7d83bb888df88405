package clusterbed

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"pacer/test/netns"
)

// Client is the client network namespace: eth0 at PREFIX.2 on br0.
type Client struct {
	NS   string // ip netns name
	Addr string
	bed  *Bed
}

// Do runs fn on an OS thread inside the client's namespace: sockets fn
// opens live there.
func (c *Client) Do(fn func() error) error { return c.netns().Do(fn) }

func (c *Client) netns() *netns.NS { return &netns.NS{Name: c.NS} }

// Exec runs a command in the client's namespace.
func (c *Client) Exec(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", c.NS}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("client: %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Get sends "GET / HTTP/1.0" to addr (host:port) from the client
// namespace and returns the body; the exchange is bounded by timeout.
func (c *Client) Get(addr string, timeout time.Duration) (string, error) {
	return c.netns().HTTPGet(addr, timeout)
}

// Outage is a stretch of time in which the poller got no answer.
type Outage struct {
	Start, End time.Time // End: first answer again (zero while it lasts)
	Before     string    // last answer before it ("haproxy ok from node1")
	After      string    // first answer after it
	Err        string    // first error seen in it
}

// Duration is how long the outage lasted (so far, while it lasts).
func (o Outage) Duration() time.Duration {
	if o.End.IsZero() {
		return time.Since(o.Start)
	}
	return o.End.Sub(o.Start)
}

// Poller asks http://ADDR every Interval from the client namespace and
// records outages and which node answered.
type Poller struct {
	Addr     string
	Interval time.Duration
	Timeout  time.Duration // per request; default Interval*5

	mu      sync.Mutex
	outages []Outage
	cur     *Outage
	last    string
	ok, bad int
	stop    context.CancelFunc
	done    chan struct{}
}

// Poll starts polling http://vip:port every interval (20 ms when zero)
// until Stop.
func (c *Client) Poll(addr string, interval time.Duration) (*Poller, error) {
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	p := &Poller{Addr: addr, Interval: interval, Timeout: 5 * interval, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	started := make(chan error, 1)
	go func() {
		defer close(p.done)
		err := c.Do(func() error {
			started <- nil
			p.loop(ctx)
			return nil
		})
		if err != nil {
			started <- err
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Poller) loop(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		sent := time.Now()
		body, err := netns.HTTPGet(p.Addr, p.Timeout)
		now := time.Now()
		body = strings.TrimSpace(body)
		p.mu.Lock()
		if err == nil {
			p.ok++
			if p.cur != nil {
				p.cur.End, p.cur.After = now, body
				p.outages = append(p.outages, *p.cur)
				p.cur = nil
			}
			p.last = body
		} else {
			p.bad++
			if p.cur == nil {
				// From the request that went unanswered, not from when
				// the client gave up on it: a timeout would otherwise
				// hide up to Timeout of the outage.
				p.cur = &Outage{Start: sent, Before: p.last, Err: err.Error()}
			}
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the polling and returns every outage (one still going has a
// zero End).
func (p *Poller) Stop() []Outage {
	p.stop()
	<-p.done
	return p.Outages()
}

// Outages returns the outages so far.
func (p *Poller) Outages() []Outage {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]Outage(nil), p.outages...)
	if p.cur != nil {
		out = append(out, *p.cur)
	}
	return out
}

// Last is the last answer ("haproxy ok from nodeN"), and whether the
// address answers right now.
func (p *Poller) Last() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.cur == nil && p.ok > 0
}

// Counts are the numbers of answered and failed requests.
func (p *Poller) Counts() (ok, failed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.bad
}
