package membership

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate adapts memberlist's callbacks to the table. memberlist calls the
// Notify* methods with its node lock held, so they only copy what they need
// and never call back into memberlist.
type delegate struct {
	m *Membership
}

var (
	_ memberlist.Delegate      = delegate{}
	_ memberlist.EventDelegate = delegate{}
	_ memberlist.PingDelegate  = delegate{}
)

// NodeMeta is our encoded meta; New and UpdateMeta already checked its size
// (memberlist panics on a meta over the limit).
func (d delegate) NodeMeta(limit int) []byte { return d.m.metaBytes() }

// The user-message and push/pull payload hooks are unused: pacer's own data
// travels over Raft and the API, not gossip.
func (delegate) NotifyMsg([]byte)                           {}
func (delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (delegate) LocalState(join bool) []byte                { return nil }
func (delegate) MergeRemoteState(buf []byte, join bool)     {}

func (d delegate) NotifyJoin(n *memberlist.Node) {
	d.m.table.joined(n.Name, n.Address(), n.Meta)
}

// NotifyLeave does not read n.State: memberlist never sets it (the real
// state lives in an unexported wrapper), so left versus dead comes from the
// leaving flag in the meta.
func (d delegate) NotifyLeave(n *memberlist.Node) {
	d.m.table.left(n.Name)
}

func (d delegate) NotifyUpdate(n *memberlist.Node) {
	d.m.table.updated(n.Name, n.Address(), n.Meta)
}

func (delegate) AckPayload() []byte { return nil }

// NotifyPingComplete is called only for a direct probe that was answered:
// proof that a suspect member is reachable again.
func (d delegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	d.m.table.acked(other.Name)
}
