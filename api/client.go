package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"pacer/crm/store"
)

// Client talks to one pacerd.
type Client struct {
	http *http.Client
	base string
	// Target says what the client talks to, for error messages.
	Target string
	// Consistent makes reads reflect every write acknowledged anywhere in
	// the cluster: a follower first learns the leader's read index. When
	// the leader cannot be reached the read is served locally and says so.
	Consistent bool
	// Forwarded marks requests a node forwards to the leader, so the
	// leader never forwards them again (no loops).
	Forwarded bool
}

// NewUnix returns a client for a local pacerd's unix socket.
func NewUnix(path string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{http: &http.Client{Transport: tr}, base: "http://pacerd", Target: path}
}

// NewTCP returns a client for a pacerd's TLS API at addr (host:port).
func NewTCP(addr string, cfg *tls.Config) *Client {
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: false, MaxIdleConnsPerHost: 4}
	return &Client{http: &http.Client{Transport: tr}, base: "https://" + addr, Target: addr}
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Do sends in (if not nil) as JSON and decodes the reply into out. A
// failed request comes back as *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Forwarded {
		req.Header.Set(HeaderForwarded, "1")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("cannot reach pacerd at %s: %v (is it running? 'pcsctl cluster start' starts it; --socket or --node picks another)", c.Target, unwrapURL(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("read reply from %s: %v", c.Target, err)}
	}
	if resp.StatusCode >= 300 {
		var e Error
		if json.Unmarshal(data, &e) != nil || e.Code == "" {
			return &Error{Code: CodeInternal, Message: fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))}
		}
		return &e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Code: CodeInternal, Message: fmt.Sprintf("decode reply of %s %s: %v", method, path, err)}
	}
	return nil
}

func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// HeaderForwarded marks a write a follower passed on to the leader.
const HeaderForwarded = "X-Pacer-Forwarded"

// Status returns the node's view of the cluster.
func (c *Client) Status(ctx context.Context) (*StatusResponse, error) {
	var r StatusResponse
	return &r, c.Do(ctx, http.MethodGet, c.readPath("/v1/status", 0), nil, &r)
}

// Watch streams change events until ctx ends or the connection drops;
// the channel is then closed. The first event is "hello".
func (c *Client) Watch(ctx context.Context) (<-chan WatchEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/watch", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &Error{Code: CodeUnavailable, Message: fmt.Sprintf("cannot reach pacerd at %s: %v", c.Target, unwrapURL(err))}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e Error
		if json.NewDecoder(resp.Body).Decode(&e) != nil || e.Code == "" {
			return nil, &Error{Code: CodeInternal, Message: fmt.Sprintf("watch: HTTP %d", resp.StatusCode)}
		}
		return nil, &e
	}
	out := make(chan WatchEvent, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var ev WatchEvent
			if err := dec.Decode(&ev); err != nil {
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// DC returns what the DC is doing; any node answers (it asks the DC).
func (c *Client) DC(ctx context.Context) (*DCState, error) {
	var r DCState
	return &r, c.Do(ctx, http.MethodGet, "/v1/dc", nil, &r)
}

// ReadIndex asks the leader for the index a consistent read must reach.
func (c *Client) ReadIndex(ctx context.Context) (*ReadIndexResponse, error) {
	var r ReadIndexResponse
	return &r, c.Do(ctx, http.MethodGet, "/v1/read-index", nil, &r)
}

func (c *Client) readPath(path string, minIndex uint64) string {
	q := url.Values{}
	if minIndex > 0 {
		q.Set("min_index", strconv.FormatUint(minIndex, 10))
	}
	if c.Consistent {
		q.Set("consistent", "1")
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// CIB returns the CIB, waiting (bounded) until the node has applied at
// least minIndex so a client sees its own earlier write.
func (c *Client) CIB(ctx context.Context, minIndex uint64) (*CIBResponse, error) {
	var r CIBResponse
	return &r, c.Do(ctx, http.MethodGet, c.readPath("/v1/cib", minIndex), nil, &r)
}

// Apply sends one typed change; any node accepts it and forwards it to
// the leader.
func (c *Client) Apply(ctx context.Context, cmd store.Command) (*CommandResponse, error) {
	env, err := store.Wrap(cmd)
	if err != nil {
		return nil, err
	}
	return c.ApplyEnvelope(ctx, env)
}

// ApplyEnvelope is Apply for an already wrapped command.
func (c *Client) ApplyEnvelope(ctx context.Context, env store.Envelope) (*CommandResponse, error) {
	var r CommandResponse
	return &r, c.Do(ctx, http.MethodPost, "/v1/commands", env, &r)
}

// Members returns gossip members and Raft servers.
func (c *Client) Members(ctx context.Context) (*MembersResponse, error) {
	var r MembersResponse
	return &r, c.Do(ctx, http.MethodGet, "/v1/members", nil, &r)
}

// Shutdown asks the node (with all, every node) to stop gracefully.
func (c *Client) Shutdown(ctx context.Context, reason string, all bool) error {
	return c.Do(ctx, http.MethodPost, "/v1/shutdown", ShutdownRequest{Reason: reason, All: all}, nil)
}

// DefaultTimeout bounds one CLI request.
const DefaultTimeout = 15 * time.Second
