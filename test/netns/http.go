package netns

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// HTTPGet sends "GET / HTTP/1.0" to addr (host:port) from inside the
// namespace and returns the body; the whole exchange is bounded by
// timeout. Anything but a 200 is an error.
func (n *NS) HTTPGet(addr string, timeout time.Duration) (string, error) {
	var body string
	err := n.Do(func() error {
		var err error
		body, err = HTTPGet(addr, timeout)
		return err
	})
	return body, err
}

// HTTPGet is the GET of NS.HTTPGet from the namespace of the calling
// thread: for code that already runs inside Do (a poller that stays in
// the namespace between requests).
func HTTPGet(addr string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
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
