#pragma once

// Conversions between Raft's plain values (raft/types.h) and their protobuf form
// (proto/raft.proto), and the encoding of a peer message.
//
// The codec is the gate between the network (or the disk) and the Raft core: the core
// CHECK-fails on some malformed input, so every from_pb() and decode_message() validates, and
// whatever they return is safe to hand to Raft::step(). to_pb() does not validate: Raft only
// produces well-formed values. Errors are invalid_argument naming the field and its value, e.g.
// "entries[2].index: 9, expected 8".
//
// Pure functions; any thread.

#include <string>
#include <string_view>

#include "core/result.h"
#include "proto/raft.pb.h"
#include "raft/types.h"

namespace spofless::proto {

// Accepted: ids nonzero and distinct, no id both voter and learner, at most
// limits::kRaftMaxVoters voters and limits::kPeerMaxMembers ids in all.
pb::Membership to_pb(const raft::Membership& m);
Result<raft::Membership> from_pb(const pb::Membership& m);

// Accepted: a known type; a membership entry's data is what raft::decode_membership reads,
// within the Membership bounds above.
pb::Entry to_pb(const raft::Entry& e);
Result<raft::Entry> from_pb(const pb::Entry& e);

// Every HardState is accepted (vote 0 is "no vote").
pb::HardState to_pb(const raft::HardState& hs);
raft::HardState from_pb(const pb::HardState& hs);

// Accepted: a valid membership (a snapshot stands for the whole log before it, so it always has
// one, possibly with no members).
pb::Snapshot to_pb(const raft::Snapshot& s);
Result<raft::Snapshot> from_pb(const pb::Snapshot& s);

// Accepted, besides the above for each part:
// - a known type; from and to nonzero;
// - a snapshot present if and only if the type is MSG_SNAPSHOT, with its term at most the
//   message's term;
// - entries only on MSG_APPEND, at most limits::kPeerMaxEntriesPerMessage of them, contiguous
//   (the first is index + 1, each next one + 1) with terms non-decreasing from log_term and at
//   most the message's term.
pb::Message to_pb(const raft::Message& m);
Result<raft::Message> from_pb(const pb::Message& m);

// The serialized pb::Message.
std::string encode_message(const raft::Message& m);
// Parses and validates; bytes that are not a pb::Message are invalid_argument.
Result<raft::Message> decode_message(std::string_view bytes);

}  // namespace spofless::proto
