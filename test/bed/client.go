package bed

import (
	"net"
	"time"
)

// Dial opens a TCP connection from inside the client namespace.
func (c *Client) Dial(addr string, timeout time.Duration) (net.Conn, error) {
	var conn net.Conn
	err := c.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp", addr, timeout)
		return err
	})
	return conn, err
}

// Get sends "GET / HTTP/1.0" to addr (host:port) from the client
// namespace and returns the body; the whole exchange is bounded by
// timeout.
func (c *Client) Get(addr string, timeout time.Duration) (string, error) {
	return c.HTTPGet(addr, timeout)
}

// WaitGet retries Get until it succeeds or wait has passed.
func (c *Client) WaitGet(addr string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		body, err := c.Get(addr, 500*time.Millisecond)
		if err == nil || time.Now().After(deadline) {
			return body, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Neighbour returns the client's neighbour entry for ip: its MAC address
// ("" when there is none) and state (REACHABLE, STALE, ...). It sends
// nothing on the wire.
func (c *Client) Neighbour(ip string) (mac, state string, err error) {
	return c.NeighbourOn(IfName, ip)
}
