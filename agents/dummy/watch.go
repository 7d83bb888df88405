package dummy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"

	"pacer/agents"
)

// Watch reports the state file disappearing (a test's failure injection)
// and coming back, from inotify events on its directory; removal by this
// agent's own Stop is not reported. A missing state file when the watch is
// in place is reported at once.
func (a *Agent) Watch(ctx context.Context, req agents.Request) (<-chan agents.Event, error) {
	c, err := a.config(req)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", req.Resource, err)
	}
	dir, name := filepath.Dir(c.state), filepath.Base(c.state)
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("watch %s: inotify: %w", req.Resource, err)
	}
	mask := uint32(unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: inotify on %s: %w", req.Resource, dir, err)
	}
	f := os.NewFile(uintptr(fd), "inotify") // pollable: Read blocks in the poller, Close unblocks it
	up, err := exists(c.state)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("watch %s: %w", req.Resource, err)
	}
	out := make(chan agents.Event, 8)
	raw := make(chan string, 16) // names of changed entries; "" when the directory went away
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go readInotify(f, raw)
	go func() {
		defer close(out)
		defer func() {
			for range raw { // until ctx closes the inotify file
			}
		}()
		send := func(code agents.Code, why string) bool {
			select {
			case out <- agents.Event{Resource: req.Resource, Code: code, Reason: why, At: a.opts.Clock.Now()}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		down := false
		if !up {
			if !send(agents.NotRunning, "state file "+c.state+" missing") {
				return
			}
			down = true
		}
		for n := range raw {
			if n != name && n != "" {
				continue
			}
			now, err := exists(c.state)
			if err != nil || now == up {
				continue
			}
			up = now
			switch {
			case !up && a.isStopped(c.state):
				// our own Stop
			case !up:
				if !send(agents.NotRunning, "state file "+c.state+" removed") {
					return
				}
				down = true
			case down:
				down = false
				if !send(agents.OK, "state file "+c.state+" back") {
					return
				}
			}
		}
	}()
	return out, nil
}

// readInotify turns inotify records into names until the file is closed.
func readInotify(f *os.File, names chan<- string) {
	defer close(names)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			name := string(bytes.TrimRight(nameBytes, "\x00"))
			if ev.Mask&(unix.IN_DELETE_SELF|unix.IN_IGNORED) != 0 {
				name = ""
			}
			names <- name
		}
	}
}
