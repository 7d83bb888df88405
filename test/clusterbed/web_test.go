package clusterbed

import (
	"strings"
	"testing"
	"time"
)

// Scenario 1 of the controller issue: the group vip+haproxy is created on
// a 3-node cluster and a client on the bridge gets answers through the
// VIP from the node that runs it.
func TestWebGroupAnswers(t *testing.T) {
	b := Up(t, Options{})
	admin := b.Running()[0]
	on, err := b.SetupWeb(admin, WebOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	got, err := b.Client.Get(b.VIP(0)+":8080", 2*time.Second)
	if err != nil || !strings.Contains(got, "haproxy ok from "+on) {
		t.Fatalf("GET through the VIP: %q, %v; want haproxy of %s", got, err, on)
	}
}
