package systemdbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// helperEnv carries the dial request to the re-run test binary:
// "SOCKETPATH COUNT".
const helperEnv = "PACER_SYSTEMDBED_DIAL"

// HelperMain must be the first call of TestMain in packages that use
// Node.Dial. In the re-run binary it connects to systemd's private socket
// from inside the node's pid namespace, passes the connected sockets back
// over fd 3 and exits; otherwise it returns at once.
func HelperMain() {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	os.Exit(helper(spec))
}

func helper(spec string) int {
	path, countStr, _ := strings.Cut(spec, " ")
	count, err := strconv.Atoi(countStr)
	if err != nil || count < 1 || count > 16 {
		fmt.Fprintf(os.Stderr, "systemdbed helper: bad request %q\n", spec)
		return 2
	}
	var fds []int
	for i := 0; i < count; i++ {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "systemdbed helper: socket: %v\n", err)
			return 1
		}
		if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
			fmt.Fprintf(os.Stderr, "systemdbed helper: connect %s: %v\n", path, err)
			return 1
		}
		fds = append(fds, fd)
	}
	if err := unix.Sendmsg(3, []byte{byte(count)}, unix.UnixRights(fds...), nil, 0); err != nil {
		fmt.Fprintf(os.Stderr, "systemdbed helper: send fds: %v\n", err)
		return 1
	}
	return 0
}

// Dial returns a go-systemd connection to the node's systemd over its
// private socket (no dbus-daemon). As with go-systemd's own constructors,
// ctx bounds the life of the connection, not only the dial.
func (n *Node) Dial(ctx context.Context) (*sddbus.Conn, error) {
	return sddbus.NewConnection(func() (*dbus.Conn, error) { return n.DialBus(ctx) })
}

// DialBus returns one authenticated D-Bus connection to the node's systemd
// over its private socket, made by a helper inside the node's pid
// namespace (see the package doc); ctx bounds its life.
func (n *Node) DialBus(ctx context.Context) (*dbus.Conn, error) {
	n.mu.Lock()
	if len(n.pool) == 0 {
		conns, err := n.dialSockets(ctx, 4) // a helper run is not free: fetch a few
		if err != nil {
			n.mu.Unlock()
			return nil, err
		}
		n.pool = conns
	}
	c := n.pool[0]
	n.pool = n.pool[1:]
	n.mu.Unlock()
	bus, err := dbus.NewConn(c, dbus.WithContext(ctx))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("systemdbed: D-Bus over private socket: %w", err)
	}
	if err := bus.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		bus.Close()
		return nil, fmt.Errorf("systemdbed: D-Bus auth: %w", err)
	}
	return bus, nil
}

func (n *Node) dialSockets(ctx context.Context, count int) ([]net.Conn, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("systemdbed: find test binary: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("systemdbed: socketpair: %w", err)
	}
	ours := os.NewFile(uintptr(pair[0]), "systemdbed-parent")
	theirs := os.NewFile(uintptr(pair[1]), "systemdbed-child")
	defer ours.Close()
	sock := fmt.Sprintf("/proc/%d/root/run/systemd/private", n.PID)
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(n.PID), "-p", "--", exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+sock+" "+strconv.Itoa(count))
	cmd.ExtraFiles = []*os.File{theirs}
	out, err := cmd.CombinedOutput()
	theirs.Close()
	if err != nil {
		return nil, fmt.Errorf("systemdbed: dial helper (did TestMain call systemdbed.HelperMain?): %w: %s", err, out)
	}
	// The helper has exited: its message is queued, so this does not block.
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4*count))
	_, oobn, _, _, err := unix.Recvmsg(int(ours.Fd()), buf, oob, unix.MSG_DONTWAIT)
	if err != nil {
		return nil, fmt.Errorf("systemdbed: receive sockets: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("systemdbed: no sockets received: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, fmt.Errorf("systemdbed: parse sockets: %w", err)
	}
	var conns []net.Conn
	for _, fd := range fds {
		f := os.NewFile(uintptr(fd), "systemd-private")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("systemdbed: socket to conn: %w", err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}
