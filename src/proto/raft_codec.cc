#include "proto/raft_codec.h"

#include <cstdint>
#include <iterator>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "core/limits.h"

namespace spofless::proto {

namespace {

std::uint64_t u(raft::NodeId id) { return static_cast<std::uint64_t>(id); }

// Every case is listed, so that adding a type to one side and not the other fails to compile
// (-Werror=switch) or is refused as unknown.
pb::EntryType entry_type_to_pb(raft::EntryType t) {
  switch (t) {
    case raft::EntryType::kNormal:
      return pb::ENTRY_NORMAL;
    case raft::EntryType::kNoop:
      return pb::ENTRY_NOOP;
    case raft::EntryType::kMembership:
      return pb::ENTRY_MEMBERSHIP;
  }
  SPOFLESS_UNREACHABLE("an EntryType is one of the listed");
  return pb::ENTRY_NORMAL;
}

std::optional<raft::EntryType> entry_type_from_pb(int t) {
  switch (t) {
    case pb::ENTRY_NORMAL:
      return raft::EntryType::kNormal;
    case pb::ENTRY_NOOP:
      return raft::EntryType::kNoop;
    case pb::ENTRY_MEMBERSHIP:
      return raft::EntryType::kMembership;
    default:
      return std::nullopt;
  }
}

constexpr std::pair<raft::MessageType, pb::MessageType> kMessageTypes[] = {
    {raft::MessageType::kPreVote, pb::MSG_PRE_VOTE},
    {raft::MessageType::kPreVoteResp, pb::MSG_PRE_VOTE_RESP},
    {raft::MessageType::kVote, pb::MSG_VOTE},
    {raft::MessageType::kVoteResp, pb::MSG_VOTE_RESP},
    {raft::MessageType::kAppend, pb::MSG_APPEND},
    {raft::MessageType::kAppendResp, pb::MSG_APPEND_RESP},
    {raft::MessageType::kHeartbeat, pb::MSG_HEARTBEAT},
    {raft::MessageType::kHeartbeatResp, pb::MSG_HEARTBEAT_RESP},
    {raft::MessageType::kTimeoutNow, pb::MSG_TIMEOUT_NOW},
    {raft::MessageType::kReadIndex, pb::MSG_READ_INDEX},
    {raft::MessageType::kReadIndexResp, pb::MSG_READ_INDEX_RESP},
    {raft::MessageType::kSnapshot, pb::MSG_SNAPSHOT},
};

static_assert(std::size(kMessageTypes) ==
                  static_cast<std::size_t>(raft::MessageType::kSnapshot) + 1,
              "every raft::MessageType has a wire type");

pb::MessageType message_type_to_pb(raft::MessageType t) {
  for (const auto& [mine, theirs] : kMessageTypes) {
    if (mine == t) return theirs;
  }
  SPOFLESS_UNREACHABLE("every raft::MessageType is in kMessageTypes");
  return pb::MSG_HEARTBEAT;
}

std::optional<raft::MessageType> message_type_from_pb(int t) {
  for (const auto& [mine, theirs] : kMessageTypes) {
    if (static_cast<int>(theirs) == t) return mine;
  }
  return std::nullopt;
}

// Reads `ids` (a repeated uint64 field named `field`) into `out`; `owner` is the path of the
// Membership in the message, for errors. The caller has bounded ids.size().
template <typename Ids>
Status read_ids(const Ids& ids, std::string_view owner, std::string_view field,
                std::set<raft::NodeId>& out) {
  for (int i = 0; i < ids.size(); ++i) {
    std::uint64_t id = ids.Get(i);
    if (id == 0) {
      return invalid_argument(fmt::format("{}{}[{}]: id 0 is not a server", owner, field, i));
    }
    if (!out.insert(raft::NodeId{id}).second) {
      return invalid_argument(fmt::format("{}{}[{}]: id {} appears twice", owner, field, i, id));
    }
  }
  return Status::ok();
}

// The bounds a decoded membership must keep, whichever encoding it came in.
Status check_membership(const raft::Membership& m, std::string_view owner) {
  if (m.voters.size() > limits::kRaftMaxVoters) {
    return invalid_argument(fmt::format("{}voters: {} voters, at most {} allowed", owner,
                                        m.voters.size(), limits::kRaftMaxVoters));
  }
  if (m.voters.size() + m.learners.size() > limits::kPeerMaxMembers) {
    return invalid_argument(fmt::format("{}learners: {} members, at most {} allowed", owner,
                                        m.voters.size() + m.learners.size(),
                                        limits::kPeerMaxMembers));
  }
  for (raft::NodeId id : m.learners) {
    if (m.is_voter(id)) {
      return invalid_argument(fmt::format("{}learners: {} is also a voter", owner, u(id)));
    }
  }
  return Status::ok();
}

Result<raft::Membership> membership_from_pb(const pb::Membership& m, std::string_view owner) {
  std::size_t count =
      static_cast<std::size_t>(m.voters_size()) + static_cast<std::size_t>(m.learners_size());
  if (count > limits::kPeerMaxMembers) {
    return invalid_argument(fmt::format("{}learners: {} members, at most {} allowed", owner, count,
                                        limits::kPeerMaxMembers));
  }
  raft::Membership out;
  if (Status s = read_ids(m.voters(), owner, "voters", out.voters); !s.is_ok()) return s;
  if (Status s = read_ids(m.learners(), owner, "learners", out.learners); !s.is_ok()) return s;
  if (Status s = check_membership(out, owner); !s.is_ok()) return s;
  return out;
}

// `owner` prefixes field names in errors ("entries[3]." inside a message, "" alone).
Result<raft::Entry> entry_from_pb(const pb::Entry& e, std::string_view owner) {
  std::optional<raft::EntryType> type = entry_type_from_pb(static_cast<int>(e.type()));
  if (!type) {
    return invalid_argument(
        fmt::format("{}type: unknown entry type {}", owner, static_cast<int>(e.type())));
  }
  if (*type == raft::EntryType::kMembership) {
    std::optional<raft::Membership> m = raft::decode_membership(e.data());
    if (!m) {
      return invalid_argument(fmt::format(
          "{}data: not a membership (\"voters=1,2 learners=3\" with ids nonzero and distinct)",
          owner));
    }
    std::string where = fmt::format("{}data.", owner);
    if (Status s = check_membership(*m, where); !s.is_ok()) return s;
  }
  return raft::Entry{raft::Term{e.term()}, raft::LogIndex{e.index()}, *type, e.data()};
}

Result<raft::Snapshot> snapshot_from_pb(const pb::Snapshot& s, std::string_view owner) {
  std::string where = fmt::format("{}membership.", owner);
  Result<raft::Membership> m = membership_from_pb(s.membership(), where);
  if (!m) return m.status();
  return raft::Snapshot{raft::LogIndex{s.index()}, raft::Term{s.term()}, std::move(*m), s.data()};
}

// The entries of an append continue the log after (index, log_term) and were written no later
// than the message's term: what RaftLog::place() and the follower's log rely on.
Status check_entries(const raft::Message& m) {
  std::uint64_t expected = m.index.value;
  raft::Term previous = m.log_term;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const raft::Entry& e = m.entries[i];
    if (expected == std::numeric_limits<std::uint64_t>::max()) {
      return invalid_argument(fmt::format("entries[{}].index: past the largest index", i));
    }
    ++expected;
    if (e.index.value != expected) {
      return invalid_argument(
          fmt::format("entries[{}].index: {}, expected {}", i, e.index.value, expected));
    }
    if (e.term < previous) {
      return invalid_argument(fmt::format("entries[{}].term: {}, below the previous term {}", i,
                                          e.term.value, previous.value));
    }
    if (e.term > m.term) {
      return invalid_argument(fmt::format("entries[{}].term: {}, above the message term {}", i,
                                          e.term.value, m.term.value));
    }
    previous = e.term;
  }
  return Status::ok();
}

// The fields of `m` other than entries and snapshot.
raft::Message scalars_from_pb(const pb::Message& m, raft::MessageType type) {
  raft::Message out;
  out.type = type;
  out.from = raft::NodeId{m.from()};
  out.to = raft::NodeId{m.to()};
  out.term = raft::Term{m.term()};
  out.index = raft::LogIndex{m.index()};
  out.log_term = raft::Term{m.log_term()};
  out.commit = raft::LogIndex{m.commit()};
  out.reject = m.reject();
  out.hint_index = raft::LogIndex{m.hint_index()};
  out.hint_term = raft::Term{m.hint_term()};
  out.leader_transfer = m.leader_transfer();
  out.round = m.round();
  out.context = m.context();
  out.log_lost = m.log_lost();
  return out;
}

}  // namespace

pb::Membership to_pb(const raft::Membership& m) {
  pb::Membership out;
  for (raft::NodeId id : m.voters) out.add_voters(u(id));
  for (raft::NodeId id : m.learners) out.add_learners(u(id));
  return out;
}

Result<raft::Membership> from_pb(const pb::Membership& m) { return membership_from_pb(m, ""); }

pb::Entry to_pb(const raft::Entry& e) {
  pb::Entry out;
  out.set_term(e.term.value);
  out.set_index(e.index.value);
  out.set_type(entry_type_to_pb(e.type));
  out.set_data(e.data);
  return out;
}

Result<raft::Entry> from_pb(const pb::Entry& e) { return entry_from_pb(e, ""); }

pb::HardState to_pb(const raft::HardState& hs) {
  pb::HardState out;
  out.set_term(hs.term.value);
  out.set_vote(u(hs.vote));
  out.set_commit(hs.commit.value);
  return out;
}

raft::HardState from_pb(const pb::HardState& hs) {
  return raft::HardState{raft::Term{hs.term()}, raft::NodeId{hs.vote()},
                         raft::LogIndex{hs.commit()}};
}

pb::Snapshot to_pb(const raft::Snapshot& s) {
  pb::Snapshot out;
  out.set_index(s.index.value);
  out.set_term(s.term.value);
  *out.mutable_membership() = to_pb(s.membership);
  out.set_data(s.data);
  return out;
}

Result<raft::Snapshot> from_pb(const pb::Snapshot& s) { return snapshot_from_pb(s, ""); }

pb::Message to_pb(const raft::Message& m) {
  pb::Message out;
  out.set_type(message_type_to_pb(m.type));
  out.set_from(u(m.from));
  out.set_to(u(m.to));
  out.set_term(m.term.value);
  out.set_index(m.index.value);
  out.set_log_term(m.log_term.value);
  for (const raft::Entry& e : m.entries) *out.add_entries() = to_pb(e);
  out.set_commit(m.commit.value);
  out.set_reject(m.reject);
  out.set_hint_index(m.hint_index.value);
  out.set_hint_term(m.hint_term.value);
  out.set_leader_transfer(m.leader_transfer);
  out.set_round(m.round);
  out.set_context(m.context);
  if (m.snapshot) *out.mutable_snapshot() = to_pb(*m.snapshot);
  out.set_log_lost(m.log_lost);
  return out;
}

Result<raft::Message> from_pb(const pb::Message& m) {
  std::optional<raft::MessageType> type = message_type_from_pb(static_cast<int>(m.type()));
  if (!type) {
    return invalid_argument(
        fmt::format("type: unknown message type {}", static_cast<int>(m.type())));
  }
  if (m.from() == 0) return invalid_argument("from: 0 is not a server");
  if (m.to() == 0) return invalid_argument("to: 0 is not a server");
  raft::Message out = scalars_from_pb(m, *type);
  bool is_snapshot = *type == raft::MessageType::kSnapshot;
  if (m.has_snapshot() != is_snapshot) {
    return invalid_argument(fmt::format("snapshot: {} on a {} message",
                                        is_snapshot ? "missing" : "present",
                                        raft::to_string(*type)));
  }
  if (is_snapshot) {
    Result<raft::Snapshot> s = snapshot_from_pb(m.snapshot(), "snapshot.");
    if (!s) return s.status();
    if (s->term > out.term) {
      return invalid_argument(fmt::format("snapshot.term: {}, above the message term {}",
                                          s->term.value, out.term.value));
    }
    out.snapshot = std::move(*s);
  }
  if (m.entries_size() > 0 && *type != raft::MessageType::kAppend) {
    return invalid_argument(fmt::format("entries: {} entries on a {} message", m.entries_size(),
                                        raft::to_string(*type)));
  }
  if (static_cast<std::size_t>(m.entries_size()) > limits::kPeerMaxEntriesPerMessage) {
    return invalid_argument(fmt::format("entries: {} entries, at most {} allowed", m.entries_size(),
                                        limits::kPeerMaxEntriesPerMessage));
  }
  out.entries.reserve(static_cast<std::size_t>(m.entries_size()));
  for (int i = 0; i < m.entries_size(); ++i) {
    Result<raft::Entry> e = entry_from_pb(m.entries(i), fmt::format("entries[{}].", i));
    if (!e) return e.status();
    out.entries.push_back(std::move(*e));
  }
  if (Status s = check_entries(out); !s.is_ok()) return s;
  return out;
}

std::string encode_message(const raft::Message& m) {
  std::string out;
  bool ok = to_pb(m).SerializeToString(&out);
  SPOFLESS_CHECK(ok, "a pb::Message within 2 GiB serializes");
  return out;
}

Result<raft::Message> decode_message(std::string_view bytes) {
  pb::Message m;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid_argument(
        fmt::format("message: {} bytes that do not parse as a Raft message", bytes.size()));
  }
  return from_pb(m);
}

}  // namespace spofless::proto
