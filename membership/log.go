package membership

import (
	"context"
	"log/slog"
	"strings"
)

// logBridge is the io.Writer behind memberlist's *log.Logger. memberlist
// writes one line per Printf, "[LEVEL] memberlist: message"; the bridge
// re-emits it through slog at that level, and translates the few lines an
// operator has to understand, or that carry a state change memberlist gives
// no callback for (suspect).
type logBridge struct {
	log       *slog.Logger
	suspected func(name string) bool // the table's hook; nil in unit tests
}

// Write never fails: losing a log line must not disturb memberlist.
func (b *logBridge) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\r\n"), "\n") {
		if line != "" {
			b.handle(line)
		}
	}
	return len(p), nil
}

func (b *logBridge) handle(line string) {
	level, msg := parseLogLine(line)
	if b.translate(msg) {
		return
	}
	b.log.Log(context.Background(), level, msg, "component", "memberlist")
}

// parseLogLine splits memberlist's "[ERR] memberlist: text" into a level and
// the text. memberlist's ERR lines are about a peer or one message (a
// timeout, a refused connection while a peer dies), not about a fault here
// that needs action, so they become Warn; Error is kept for our own
// translations that do need action.
func parseLogLine(line string) (slog.Level, string) {
	level, msg := slog.LevelInfo, strings.TrimSpace(line)
	if strings.HasPrefix(msg, "[") {
		if end := strings.IndexByte(msg, ']'); end > 0 {
			switch msg[1:end] {
			case "TRACE", "DEBUG":
				level = slog.LevelDebug
			case "INFO":
				level = slog.LevelInfo
			default: // WARN, ERR, ERROR
				level = slog.LevelWarn
			}
			msg = strings.TrimSpace(msg[end+1:])
		}
	} else if rest, ok := strings.CutPrefix(msg, "Err: "); ok { // one unprefixed memberlist line
		level, msg = slog.LevelWarn, rest
	}
	msg = strings.TrimPrefix(msg, "memberlist: ")
	return level, msg
}

// translate handles the lines that deserve a sentence of their own. It
// reports whether it logged the line.
func (b *logBridge) translate(msg string) bool {
	// The receiving side of a key mismatch, UDP then TCP. A plain (keyless)
	// UDP packet also fails as "no installed keys could decrypt".
	for _, prefix := range []string{"Decrypt packet failed: ", "failed to receive: "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			detail, from := cutFrom(rest)
			switch keyProblemOf(detail) {
			case keyDiffers:
				b.log.Warn("gossip: message from "+from+" could not be decrypted: the sender uses a different cluster key",
					"from", from, "detail", detail)
				return true
			case keyPeerHasNone:
				b.log.Warn("gossip: message from "+from+" was refused: it was not encrypted (the sender has no cluster key)",
					"from", from, "detail", detail)
				return true
			}
			// A plain UDP packet fails the version or length check before
			// any key is tried ("unsupported encryption version 7",
			// "payload is too small to decrypt").
			if prefix == "Decrypt packet failed: " {
				b.log.Warn("gossip: message from "+from+" could not be decrypted: the sender does not encrypt gossip with a cluster key",
					"from", from, "detail", detail)
				return true
			}
			return false
		}
	}
	// The joining side (memberlist logs it at DEBUG; Join returns it too).
	if rest, ok := strings.CutPrefix(msg, "failed to join "); ok {
		addr, detail, _ := strings.Cut(rest, ": ")
		switch keyProblemOf(detail) {
		case keyDiffers:
			b.log.Warn("gossip: could not join "+addr+": its answer could not be decrypted: the peer uses a different cluster key",
				"peer", addr, "detail", detail)
			return true
		case keyPeerHasNone:
			b.log.Warn("gossip: could not join "+addr+": the peer does not encrypt gossip (it has no cluster key)",
				"peer", addr, "detail", detail)
			return true
		}
		return false
	}
	if rest, ok := strings.CutPrefix(msg, "Suspect "); ok {
		if name, ok := strings.CutSuffix(rest, " has failed, no acks received"); ok {
			level := slog.LevelInfo
			// A probe round that started before the member was declared
			// down can finish after it; that line is no news.
			if b.suspected != nil && !b.suspected(name) {
				level = slog.LevelDebug
			}
			b.log.Log(context.Background(), level, "gossip: "+name+" is suspect: it answered neither direct nor indirect probes", "member", name)
			return true
		}
	}
	if rest, ok := strings.CutPrefix(msg, "Marking "); ok {
		if name, confirm, ok := strings.Cut(rest, " as failed, suspect timeout reached ("); ok {
			confirm, _, _ = strings.Cut(confirm, " ")
			b.log.Info("gossip: "+name+" is down: it stayed suspect until the timeout", "member", name, "confirmations", confirm)
			return true
		}
	}
	for _, what := range []string{"suspect", "dead"} {
		if rest, ok := strings.CutPrefix(msg, "Refuting a "+what+" message (from: "); ok {
			from := strings.TrimSuffix(rest, ")")
			b.log.Warn("gossip: "+from+" believes this node is "+what+"; refuting (this node may be overloaded or its network lossy)",
				"from", from)
			return true
		}
	}
	return false
}

// cutFrom splits memberlist's "text from=addr" suffix (LogAddress/LogConn).
func cutFrom(s string) (text, from string) {
	if i := strings.LastIndex(s, " from="); i >= 0 {
		return s[:i], s[i+len(" from="):]
	}
	return s, "<unknown address>"
}
