package clusterbed

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"pacer/api"
	"pacer/test/netns"
)

// MainPID is the host PID of a unit's main process in the node (what
// systemd calls MainPID), so a benchmark can kill just that process the
// way a crash would, leaving systemd to notice.
func (n *Node) MainPID(unit string) (int, error) {
	out, err := n.Exec("systemctl", "show", "-p", "MainPID", "--value", unit)
	if err != nil {
		return 0, err
	}
	inner, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || inner <= 0 {
		return 0, fmt.Errorf("%s: %s has no main process (%q)", n.Name, unit, strings.TrimSpace(out))
	}
	for _, pid := range n.UnitPIDs(unit) {
		if ns := nspids(pid); len(ns) > 0 && ns[len(ns)-1] == inner {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("%s: %s main PID %d not found in its cgroup", n.Name, unit, inner)
}

// ThawCgroups clears the freezer on every cgroup of the node. A node that
// was frozen and then fenced by a reboot comes back in the same cgroups;
// left frozen, its new systemd would hang at once.
func (n *Node) ThawCgroups() { n.thawLeftovers() }

// DCState asks any running node what the DC is doing.
func (b *Bed) DCState(ctx context.Context) (*api.DCState, error) {
	var last error
	for _, n := range b.Running() {
		cl, err := n.API()
		if err != nil {
			last = err
			continue
		}
		cx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := cl.DC(cx)
		cancel()
		cl.Close()
		if err == nil {
			return st, nil
		}
		last = err
	}
	if last == nil {
		last = errNotRunning
	}
	return nil, last
}

// LogLine is one line of a node's pacerd log, with its slog fields.
type LogLine struct {
	Node   string // the node whose log it is
	At     time.Time
	Level  string
	Msg    string
	Fields map[string]string
	Raw    string
}

// LogSince returns the lines of the node's pacerd log stamped at or
// after since. The log outlives the node's domain (it is in the node's
// host directory), so a killed node's last words are there too.
func (n *Node) LogSince(since time.Time) []LogLine {
	f, err := os.Open(filepath.Join(n.Dir, "pacerd.log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []LogLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l, ok := parseLogLine(sc.Text())
		if !ok || l.At.Before(since) {
			continue
		}
		l.Node = n.Name
		out = append(out, l)
	}
	return out
}

// parseLogLine reads slog's text format: key=value pairs, values quoted
// when they contain spaces.
func parseLogLine(s string) (LogLine, bool) {
	l := LogLine{Fields: map[string]string{}, Raw: s}
	rest := s
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		k, v, ok := strings.Cut(rest, "=")
		if !ok || strings.ContainsAny(k, " \"") {
			break
		}
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				break
			}
			rest = v[len(q):]
			v, _ = strconv.Unquote(q)
		} else {
			end := strings.IndexByte(v, ' ')
			if end < 0 {
				end = len(v)
			}
			v, rest = v[:end], v[end:]
		}
		l.Fields[k] = v
	}
	at, err := time.Parse(time.RFC3339Nano, l.Fields["time"])
	if err != nil {
		return l, false
	}
	l.At, l.Level, l.Msg = at, l.Fields["level"], l.Fields["msg"]
	return l, true
}

// Sample is one request of a Sampler: when it was sent and answered (or
// failed), and what came back.
type Sample struct {
	Start, End time.Time
	OK         bool
	Body       string // trimmed, when OK
}

// Sampler asks http://ADDR every interval from the client namespace and
// keeps every request, not only the outages: a benchmark can then time
// an outage from the last answer before it, which for a slow failure (a
// request timing out against a dead node) is earlier than the first
// failure is known.
type Sampler struct {
	mu      sync.Mutex
	samples []Sample
	stop    context.CancelFunc
	done    chan struct{}
}

// keepSamples bounds the memory of a long run; benchmarks look back
// seconds, not minutes.
const keepSamples = 5 * time.Minute

// Sample starts a Sampler of http://addr (host:port) every interval (20 ms
// when zero), each request bounded by five intervals.
func (c *Client) Sample(addr string, interval time.Duration) (*Sampler, error) {
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sampler{stop: cancel, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		defer close(s.done)
		err := c.Do(func() error {
			started <- nil
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				start := time.Now()
				body, err := netns.HTTPGet(addr, 5*interval)
				s.add(Sample{Start: start, End: time.Now(), OK: err == nil, Body: strings.TrimSpace(body)})
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
				}
			}
		})
		if err != nil {
			started <- err
		}
	}()
	if err := <-started; err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

func (s *Sampler) add(x Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) > 0 && x.End.Sub(s.samples[0].End) > 2*keepSamples {
		i := sort.Search(len(s.samples), func(i int) bool { return x.End.Sub(s.samples[i].End) < keepSamples })
		s.samples = append([]Sample(nil), s.samples[i:]...)
	}
	s.samples = append(s.samples, x)
}

// Samples returns the requests that ended at or after since.
func (s *Sampler) Samples(since time.Time) []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.samples), func(i int) bool { return !s.samples[i].End.Before(since) })
	return append([]Sample(nil), s.samples[i:]...)
}

// Last is the latest request.
func (s *Sampler) Last() (Sample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return Sample{}, false
	}
	return s.samples[len(s.samples)-1], true
}

// Stop ends the sampling.
func (s *Sampler) Stop() {
	s.stop()
	<-s.done
}
