package membership

import (
	"fmt"
	"log"
	"log/slog"
	"testing"
)

// The lines are memberlist v0.7.0's, as printed through log.New(w, "", 0).
func TestLogBridge(t *testing.T) {
	tests := []struct {
		line      string
		want      string // record prefix: level and message
		suspected string
	}{
		{"[ERR] memberlist: failed to receive: no installed keys could decrypt the message from=127.0.0.1:49618",
			"WARN gossip: message from 127.0.0.1:49618 could not be decrypted: the sender uses a different cluster key", ""},
		{"[ERR] memberlist: Decrypt packet failed: no installed keys could decrypt the message from=10.0.0.9:7946",
			"WARN gossip: message from 10.0.0.9:7946 could not be decrypted: the sender uses a different cluster key", ""},
		{"[ERR] memberlist: Decrypt packet failed: unsupported encryption version 7 from=10.0.0.9:7946",
			"WARN gossip: message from 10.0.0.9:7946 could not be decrypted: the sender does not encrypt gossip with a cluster key", ""},
		{"[ERR] memberlist: failed to receive: encryption is configured but remote state is not encrypted from=127.0.0.1:1",
			"WARN gossip: message from 127.0.0.1:1 was refused: it was not encrypted", ""},
		{"[DEBUG] memberlist: failed to join 127.0.0.1:44173: no installed keys could decrypt the message",
			"WARN gossip: could not join 127.0.0.1:44173: its answer could not be decrypted: the peer uses a different cluster key", ""},
		{"[DEBUG] memberlist: failed to join 127.0.0.1:44173: dial tcp 127.0.0.1:44173: connect: connection refused",
			"DEBUG failed to join 127.0.0.1:44173: dial tcp", ""},
		{"[ERR] memberlist: failed to receive: EOF from=127.0.0.1:5",
			"WARN failed to receive: EOF from=127.0.0.1:5", ""},
		{"[INFO] memberlist: Suspect n3 has failed, no acks received",
			"INFO gossip: n3 is suspect", "n3"},
		{"[INFO] memberlist: Suspect gone has failed, no acks received",
			"DEBUG gossip: gone is suspect", "gone"},
		{"[INFO] memberlist: Marking n3 as failed, suspect timeout reached (0 peer confirmations)",
			"INFO gossip: n3 is down: it stayed suspect until the timeout member=n3 confirmations=0", ""},
		{"[WARN] memberlist: Refuting a suspect message (from: n2)",
			"WARN gossip: n2 believes this node is suspect; refuting", ""},
		{"[WARN] memberlist: Refuting a dead message (from: n1)",
			"WARN gossip: n1 believes this node is dead; refuting", ""},
		{"[DEBUG] memberlist: Failed UDP ping: n3 (timeout reached)",
			"DEBUG Failed UDP ping: n3 (timeout reached) component=memberlist", ""},
		{"[WARN] memberlist: Got ping for unexpected node n9 from=127.0.0.1:3",
			"WARN Got ping for unexpected node n9", ""},
		{"[ERR] Failed to shutdown transport: boom", "WARN Failed to shutdown transport: boom", ""},
		{"Err: Could not set the deadline: x", "WARN Could not set the deadline: x", ""},
		{"no level at all", "INFO no level at all", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			logs := &logCapture{}
			var suspected string
			b := &logBridge{log: slog.New(logs), suspected: func(name string) bool {
				suspected = name
				return name != "gone"
			}}
			// Through a *log.Logger, as memberlist writes.
			log.New(b, "", 0).Print(tt.line)
			got := logs.dump()
			if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("logged %q\nwant prefix %q", got, tt.want)
			}
			if suspected != tt.suspected {
				t.Errorf("suspected %q, want %q", suspected, tt.suspected)
			}
		})
	}
}

func TestLogBridgeSplitsLines(t *testing.T) {
	logs := &logCapture{}
	b := &logBridge{log: slog.New(logs)}
	fmt.Fprint(b, "[DEBUG] memberlist: one\n[DEBUG] memberlist: two\n")
	if got := logs.dump(); got != "DEBUG one component=memberlist\nDEBUG two component=memberlist" {
		t.Errorf("got %q", got)
	}
}
