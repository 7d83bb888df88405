package xvm

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// The daemon side of the protocol: what fence_virtd does once it has a
// request. Unit tests use it as a fake fence_virtd; a fence-host mode can
// build on it.

// Handler carries out a verified request and returns the reply to send.
type Handler func(ctx context.Context, req Request) Reply

// ServeCallback answers a verified request the way fence_virtd's
// multicast listener does: connect back to req.Addr:req.Port, answer the
// client's challenge, challenge it, and only if it answers correctly call h
// and write the reply. ctx bounds the whole exchange (fence_virtd uses a
// 5 s connect timeout).
func ServeCallback(ctx context.Context, req Request, auth Hash, key []byte, h Handler) error {
	if !req.Addr.IsValid() {
		return fmt.Errorf("xvm: request has no callback address")
	}
	var d net.Dialer
	to := netip.AddrPortFrom(req.Addr, req.Port)
	conn, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return fmt.Errorf("xvm: connecting back to %v: %w", to, err)
	}
	defer conn.Close()
	return serve(ctx, conn, req, auth, key, h)
}

// ServeConn answers one connection of a fence_virtd-style tcp listener:
// read the 176-byte request, verify it (at least minHash), then run the
// same exchange as ServeCallback on that connection.
func ServeConn(ctx context.Context, conn net.Conn, minHash, auth Hash, key []byte, h Handler) error {
	stop := bindConn(ctx, conn)
	defer stop()
	var b [RequestSize]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return fmt.Errorf("xvm: reading request: %w", err)
	}
	if err := VerifyRequest(b[:], key, minHash); err != nil {
		return err
	}
	req, err := ParseRequest(b[:])
	if err != nil {
		return err
	}
	return serve(ctx, conn, req, auth, key, h)
}

func serve(ctx context.Context, conn net.Conn, req Request, auth Hash, key []byte, h Handler) error {
	stop := bindConn(ctx, conn)
	defer stop()
	if err := DaemonHandshake(conn, auth, key); err != nil {
		return fmt.Errorf("xvm: client failed the challenge-response: %w", err)
	}
	rep := h(ctx, req)
	return WriteReply(conn, rep, req.Op == OpList)
}

// History drops repeated requests as fence_virtd does: a request with the
// same op, seqno and (case-insensitively) domain as one handled in the
// last Window is a repeat. Not safe for concurrent use.
type History struct {
	Window time.Duration // fence_virtd: 10 s
	seen   []historyEntry
}

type historyEntry struct {
	op     Op
	seqno  uint32
	domain string
	at     time.Time
}

// Seen reports whether req repeats a recorded request, pruning old ones.
func (h *History) Seen(req Request, now time.Time) bool {
	kept := h.seen[:0]
	found := false
	for _, e := range h.seen {
		if now.Sub(e.at) > h.Window {
			continue
		}
		kept = append(kept, e)
		if e.op == req.Op && e.seqno == req.Seqno && equalFoldASCII(e.domain, req.Domain) {
			found = true
		}
	}
	h.seen = kept
	return found
}

// Record remembers req as handled at now.
func (h *History) Record(req Request, now time.Time) {
	h.seen = append(h.seen, historyEntry{req.Op, req.Seqno, req.Domain, now})
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
