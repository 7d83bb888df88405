package xvm

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// maxHosts bounds a list reply; a libvirt host with more domains than this
// is not a fencing target we can reason about anyway.
const maxHosts = 16384

// Handshake errors, wrapped with context by the client.
var (
	// ErrChallengeFailed: the peer's answer to our challenge was wrong.
	ErrChallengeFailed = errors.New("xvm: peer failed our challenge")
	// ErrPeerRejected: the peer closed the connection during the
	// handshake, which is how fence_virtd rejects our response.
	ErrPeerRejected = errors.New("xvm: peer closed the connection during the challenge-response")
)

// ClientHandshake runs the fence_xvm side of the two-way
// challenge–response on rw (the callback connection, or the connection to
// fence_virtd's TCP listener): send a 64-byte challenge, check the answer,
// then answer the peer's challenge. With HashNone it does nothing. The
// caller sets deadlines.
func ClientHandshake(rw io.ReadWriter, auth Hash, key []byte) error {
	if auth == HashNone {
		return nil
	}
	if err := challenge(rw, auth, key); err != nil {
		return err
	}
	return respond(rw, auth, key)
}

// DaemonHandshake runs the fence_virtd side: answer the client's
// challenge, then challenge it. With HashNone it does nothing.
func DaemonHandshake(rw io.ReadWriter, auth Hash, key []byte) error {
	if auth == HashNone {
		return nil
	}
	if err := respond(rw, auth, key); err != nil {
		return err
	}
	return challenge(rw, auth, key)
}

func challenge(rw io.ReadWriter, auth Hash, key []byte) error {
	var c [ChallengeSize]byte
	if _, err := rand.Read(c[:]); err != nil {
		return fmt.Errorf("xvm: making challenge: %w", err)
	}
	if _, err := rw.Write(c[:]); err != nil {
		return fmt.Errorf("xvm: sending challenge: %w", err)
	}
	var got [ChallengeSize]byte
	if _, err := io.ReadFull(rw, got[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w (reading the answer to our challenge)", ErrPeerRejected)
		}
		return fmt.Errorf("xvm: reading challenge answer: %w", err)
	}
	want := Digest(auth, key, c[:])
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return ErrChallengeFailed
	}
	return nil
}

func respond(rw io.ReadWriter, auth Hash, key []byte) error {
	var c [ChallengeSize]byte
	if _, err := io.ReadFull(rw, c[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w (waiting for its challenge)", ErrPeerRejected)
		}
		return fmt.Errorf("xvm: reading challenge: %w", err)
	}
	r := Digest(auth, key, c[:])
	if _, err := rw.Write(r[:]); err != nil {
		return fmt.Errorf("xvm: sending challenge answer: %w", err)
	}
	return nil
}

// Reply is what fence_virtd sent after the handshake.
type Reply struct {
	Code  byte         // CodeSuccess, CodeFail, CodeOff, CodePermission
	Hosts []HostRecord // for OpList, without the terminator
}

// ReadReply reads the result of an operation: one result byte, or for a
// host list 0xFD, records up to the all-empty terminator, then the final
// result byte.
func ReadReply(r io.Reader) (Reply, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Reply{}, fmt.Errorf("xvm: connection closed before the result byte: %w", err)
		}
		return Reply{}, fmt.Errorf("xvm: reading result: %w", err)
	}
	if b[0] != CodeHostList {
		return Reply{Code: b[0]}, nil
	}
	var rep Reply
	var rec [HostRecordSize]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			return rep, fmt.Errorf("xvm: reading host record %d: %w", len(rep.Hosts)+1, err)
		}
		h, _ := ParseHostRecord(rec[:])
		if h.IsTerminator() {
			break
		}
		if len(rep.Hosts) == maxHosts {
			return rep, fmt.Errorf("xvm: host list longer than %d records", maxHosts)
		}
		rep.Hosts = append(rep.Hosts, h)
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return rep, fmt.Errorf("xvm: reading result after host list: %w", err)
	}
	rep.Code = b[0]
	return rep, nil
}

// WriteReply writes rep in the daemon's format: for a host list (hosts not
// nil) 0xFD, the records, a terminator and the code; else the code alone.
func WriteReply(w io.Writer, rep Reply, list bool) error {
	var buf []byte
	if list {
		buf = append(buf, CodeHostList)
		for _, h := range rep.Hosts {
			rec := h.Marshal()
			buf = append(buf, rec[:]...)
		}
		buf = append(buf, make([]byte, HostRecordSize)...)
	}
	buf = append(buf, rep.Code)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("xvm: writing reply: %w", err)
	}
	return nil
}
