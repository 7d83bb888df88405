// Package membership is pacer's gossip layer: it tells every node which other
// nodes exist, what they advertise about themselves (Meta), and whether they
// are up, suspect, down or gone on purpose. It is the part of the stack that
// Corosync's totem/CPG plays for Pacemaker.
//
// It is a thin layer over hashicorp/memberlist (SWIM with the Lifeguard
// extensions) and holds no policy: it never decides to fence, to move a
// resource or to trust a "down". Callers (the controller) read Events and
// Members and decide. A memberlist "down" is one node's opinion, reached in
// well under a second with the lan-fast profile; confirm it (Raft leader
// contact, a second probe) before fencing.
//
// # Encryption
//
// All gossip is encrypted and authenticated with the cluster key (AES-GCM,
// memberlist's SecretKey) and GossipVerifyIncoming/Outgoing are on, so a
// node with no key or another key can neither join nor inject state. What
// memberlist reports for a wrong key is "no installed keys could decrypt the
// message", on both sides: the receiver cannot open the joiner's message, and
// the joiner cannot open the error the receiver sends back. Join turns that
// into a JoinError that says so (errors.Is(err, ErrKeyMismatch)), and the log
// bridge (log.go) turns the receiver's log line into
// "gossip: message from X could not be decrypted: the sender uses a different
// cluster key".
//
// # How the states are observed
//
// memberlist's EventDelegate only reports join, leave and update, and the
// *Node it passes has no usable State (memberlist keeps the real state in an
// unexported wrapper; Node.State is always zero). So:
//
//   - up, down, updated come from the EventDelegate.
//   - suspect comes from memberlist's own decision point: right before a node's
//     probe round marks a peer suspect, memberlist logs "Suspect X has failed,
//     no acks received"; the log bridge turns that line into EventSuspect.
//     Reading memberlist's member list instead is not possible without a data
//     race (Members returns pointers into state that memberlist mutates under
//     its own lock). Consequence: a node reports suspect only when its own
//     probes failed; suspicion it merely heard about by gossip is not visible,
//     so some survivors see a crashed peer go straight from up to down.
//   - suspect back to up: a direct probe answered again (PingDelegate), an
//     alive message with new meta, or, as a backstop, the peer was neither
//     declared down nor suspected again by us for longer than memberlist's
//     longest suspicion timeout, which means memberlist cleared it.
//   - left versus dead: Node.State cannot tell them apart, so Leave first
//     gossips a "leaving" flag inside the meta (not part of Meta, never
//     reported as an update), then calls memberlist's Leave. A peer that
//     missed the flag reports StateDead: the safe side of the mistake.
//
// # Logging
//
// memberlist logs through a *log.Logger. It is pointed at an io.Writer
// (log.go) that parses each "[LEVEL] memberlist: ..." line and re-emits it
// through the configured slog.Logger at the matching level, translating the
// lines an operator must understand (key mismatch, suspect, failed, refuting).
package membership
