package store

import (
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/raft"
)

// Voter change operations.
const (
	OpAddNonvoter = "add-nonvoter"
	OpPromote     = "promote"
	OpRemove      = "remove"
	// OpUpdateAddr records a member's new raft address (its IP changed)
	// without changing its vote.
	OpUpdateAddr = "update-addr"
)

// VoterChange is one step of a membership plan.
type VoterChange struct {
	Op   string `json:"op"`
	ID   string `json:"id"`
	Addr string `json:"addr,omitempty"`
}

func (c VoterChange) String() string { return c.Op + " " + c.ID + " " + c.Addr }

// TargetVoters is how many voters a cluster of known servers should have:
// 1 or 2 when that is all there is, 3 up to 4 servers, 5 from 5 on. Odd
// counts above 2, because a fourth voter raises the majority without
// surviving more failures; never more than 5, because every voter slows
// each commit.
func TargetVoters(known int) int {
	switch {
	case known >= 5:
		return 5
	case known >= 3:
		return 3
	}
	return known
}

// PlanVoters decides Raft membership changes. It is pure: the leader's
// controller calls it on membership events and on a timer, and executes
// the result with ApplyVoterChanges.
//
//   - cur: the Raft configuration now.
//   - alive: the nodes gossip says are alive (id -> raft address). A
//     witness is a node like any other here: it may vote.
//   - goneSince: when each known server was last seen alive.
//   - replaceAfter: how long a voter may be gone before it is replaced.
//   - leaderID: this node; always treated as alive, never removed.
//
// Rules, in the order the changes are returned:
//
//  1. An alive member whose address changed gets OpUpdateAddr.
//  2. Every alive node not in the configuration is added as a non-voter.
//  3. While voters < TargetVoters(servers known), alive non-voters are
//     promoted, in name order. Only non-voters already in cur qualify:
//     a node added in step 2 waits for the next plan, which gives it
//     time to catch up on the log before its vote counts toward commits
//     (the order hashicorp/raft recommends).
//  4. A voter gone longer than replaceAfter is replaced only when a live
//     non-voter can take its place: promote that one first, then remove
//     the gone voter. A voter is never removed without a replacement,
//     so the voter count does not shrink on a failure (two-node mode's
//     shrink after fencing is the controller's decision, not this one).
//
// No change is planned that would leave alive voters without a strict
// majority of all voters.
func PlanVoters(cur []Server, alive map[string]string, goneSince map[string]time.Time, now time.Time, replaceAfter time.Duration, leaderID string) []VoterChange {
	type member struct {
		addr  string
		voter bool
	}
	members := map[string]*member{}
	existing := map[string]bool{}
	for _, s := range cur {
		members[s.ID] = &member{addr: s.Addr, voter: s.Voter}
		existing[s.ID] = true
	}
	isAlive := func(id string) bool {
		_, ok := alive[id]
		return ok || id == leaderID
	}
	var plan []VoterChange

	for _, id := range sortedKeys(alive) {
		m, ok := members[id]
		switch {
		case ok && alive[id] != "" && m.addr != alive[id]:
			m.addr = alive[id]
			plan = append(plan, VoterChange{Op: OpUpdateAddr, ID: id, Addr: m.addr})
		case !ok && alive[id] != "": // without an address it cannot be dialled
			members[id] = &member{addr: alive[id]}
			plan = append(plan, VoterChange{Op: OpAddNonvoter, ID: id, Addr: alive[id]})
		}
	}

	voters, aliveVoters := 0, 0
	for id, m := range members {
		if m.voter {
			voters++
			if isAlive(id) {
				aliveVoters++
			}
		}
	}
	// Promotion candidates: alive non-voters already in the configuration.
	var spare []string
	for _, id := range sortedKeys(members) {
		if !members[id].voter && existing[id] && isAlive(id) {
			spare = append(spare, id)
		}
	}
	majority := func(alive, all int) bool { return 2*alive > all }
	promote := func() bool {
		if len(spare) == 0 || !majority(aliveVoters+1, voters+1) {
			return false
		}
		id := spare[0]
		spare = spare[1:]
		members[id].voter = true
		voters++
		aliveVoters++
		plan = append(plan, VoterChange{Op: OpPromote, ID: id, Addr: members[id].addr})
		return true
	}

	for voters < TargetVoters(len(members)) && promote() {
	}

	for _, id := range sortedKeys(members) {
		m := members[id]
		since, known := goneSince[id]
		if !m.voter || isAlive(id) || !known || now.Sub(since) <= replaceAfter {
			continue
		}
		if !promote() {
			break // no replacement left: keep the gone voters
		}
		if !majority(aliveVoters, voters-1) {
			continue
		}
		m.voter = false
		voters--
		delete(members, id)
		plan = append(plan, VoterChange{Op: OpRemove, ID: id})
	}
	return plan
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ApplyVoterChanges executes a plan from PlanVoters in order, stopping at
// the first failure (later steps may rely on earlier ones; the next plan
// starts again from the configuration that resulted). Leader only.
func (s *Store) ApplyVoterChanges(changes []VoterChange) error {
	for _, c := range changes {
		var err error
		switch c.Op {
		case OpAddNonvoter:
			err = s.AddNonvoter(c.ID, c.Addr)
		case OpPromote:
			err = s.Promote(c.ID, c.Addr)
		case OpRemove:
			err = s.RemoveServer(c.ID)
		case OpUpdateAddr:
			err = s.updateAddr(c.ID, c.Addr)
		default:
			err = fmt.Errorf("%w: unknown voter change %q", ErrInvalid, c.Op)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		s.log.Info("raft membership changed", "op", c.Op, "id", c.ID, "addr", c.Addr)
	}
	return nil
}

// Servers returns the Raft configuration: every member and its vote.
func (s *Store) Servers() ([]Server, error) {
	f := s.r().GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", s.raftErr(err))
	}
	var out []Server
	for _, srv := range f.Configuration().Servers {
		out = append(out, Server{ID: string(srv.ID), Addr: string(srv.Address), Voter: srv.Suffrage == raft.Voter})
	}
	return out, nil
}

func (s *Store) server(id string) (Server, bool, error) {
	all, err := s.Servers()
	if err != nil {
		return Server{}, false, err
	}
	for _, srv := range all {
		if srv.ID == id {
			return srv, true, nil
		}
	}
	return Server{}, false, nil
}

// AddNonvoter adds a server that receives the log but does not vote.
// Leader only.
func (s *Store) AddNonvoter(id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("%w: a server needs an id and a raft address", ErrInvalid)
	}
	return s.membership(s.r().AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.cfg.ApplyTimeout))
}

// Promote makes a non-voter a voter; addr may be empty to keep the
// recorded address. The server must already be in the configuration, so
// that it has had a chance to catch up. Leader only.
func (s *Store) Promote(id, addr string) error {
	srv, ok, err := s.server(id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: server %q is not in the raft configuration; add it as a non-voter first", ErrNotFound, id)
	}
	if addr == "" {
		addr = srv.Addr
	}
	return s.membership(s.r().AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.cfg.ApplyTimeout))
}

// RemoveServer removes a server from the configuration. Removing the
// leader itself is allowed (it steps down) but PlanVoters never asks for
// it. Leader only.
func (s *Store) RemoveServer(id string) error {
	_, ok, err := s.server(id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: server %q is not in the raft configuration", ErrNotFound, id)
	}
	return s.membership(s.r().RemoveServer(raft.ServerID(id), 0, s.cfg.ApplyTimeout))
}

// updateAddr records a new address. raft's AddNonvoter on an existing
// voter changes only its address, never its vote.
func (s *Store) updateAddr(id, addr string) error {
	if _, ok, err := s.server(id); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: server %q is not in the raft configuration", ErrNotFound, id)
		}
		return err
	}
	return s.AddNonvoter(id, addr)
}

func (s *Store) membership(f raft.IndexFuture) error {
	if s.closed() {
		return ErrClosed
	}
	if err := f.Error(); err != nil {
		return s.raftErr(err)
	}
	return nil
}
