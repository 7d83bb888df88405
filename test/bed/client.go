package bed

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
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
	conn, err := c.Dial(addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", addr); err != nil {
		return "", err
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", addr, err)
	}
	if !strings.Contains(status, " 200 ") {
		return "", fmt.Errorf("GET %s: %s", addr, strings.TrimSpace(status))
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("GET %s: headers: %w", addr, err)
		}
		if strings.TrimSpace(line) == "" {
			break
		}
	}
	body, err := io.ReadAll(br)
	return string(body), err
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
	out, err := c.Exec("ip", "neigh", "show", ip, "dev", IfName)
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			mac = f[i+1]
		}
	}
	if len(f) > 0 {
		state = f[len(f)-1]
	}
	return mac, state, nil
}
