package store

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// commitNotice tells followers about a commit at once. hashicorp/raft
// sends a follower the leader's commit index only with the next entries
// or, when writes stop, after CommitTimeout (250-500 ms with FastTiming,
// which is set high for idle CPU). Until then a follower has the entry
// but has not applied it, so its watchers ('pcsctl mon' on that node)
// lag a quarter second behind. A barrier is an empty entry: replicating
// it carries the new commit index, so followers apply the write one
// round trip after the leader (plus noticeQuiet). At most one notice is in
// flight; writes that land meanwhile ask for one more.
// noticeQuiet is how long writes must pause before a notice is sent.
const noticeQuiet = 3 * time.Millisecond

type commitNotice struct {
	running atomic.Bool
	again   atomic.Bool
}

func (n *commitNotice) send(r func() *raft.Raft) {
	if !n.running.CompareAndSwap(false, true) {
		n.again.Store(true)
		return
	}
	go func() {
		defer n.running.Store(false)
		for {
			// While writes keep coming, each one's replication carries
			// the commit index of those before it: only the last write
			// of a burst needs a notice.
			time.Sleep(noticeQuiet)
			if n.again.Swap(false) {
				continue
			}
			rf := r()
			if rf.State() != raft.Leader {
				return
			}
			// Alone there is nobody to tell (and no entry to spend).
			if f := rf.GetConfiguration(); f.Error() != nil || len(f.Configuration().Servers) < 2 {
				return
			}
			// Errors only mean leadership moved or raft stopped: the
			// next leader's own entries carry the commit index.
			_ = rf.Barrier(time.Second).Error()
			if !n.again.Swap(false) {
				return
			}
		}
	}()
}
