#pragma once

// Raft's vocabulary: ids, terms, indexes, log entries, hard state and messages.
// Plain values; the wire and disk encodings (protobuf) belong to the server, not here.

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace spofless::raft {

// A server's id. 0 is "none": no vote cast, no leader known.
enum class NodeId : std::uint64_t { kNone = 0 };

// An integer with its own type, so that a term is never passed as an index.
template <typename Tag>
struct Counter {
  std::uint64_t value = 0;

  constexpr auto operator<=>(const Counter&) const = default;
  constexpr Counter next() const { return Counter{value + 1}; }
  constexpr Counter prev() const { return Counter{value == 0 ? 0 : value - 1}; }
};

using Term = Counter<struct TermTag>;
using LogIndex = Counter<struct LogIndexTag>;

enum class EntryType : std::uint8_t { kNormal, kNoop };

struct Entry {
  Term term;
  LogIndex index;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What must be on disk before any message that depends on it is sent (Raft §5.1, Fig. 2).
struct HardState {
  Term term;
  NodeId vote = NodeId::kNone;
  LogIndex commit;

  bool operator==(const HardState&) const = default;
};

enum class MessageType : std::uint8_t {
  kPreVote,  // Raft thesis §9.6: would you vote for me at term+1?
  kPreVoteResp,
  kVote,  // RequestVote (§5.2)
  kVoteResp,
  kAppend,  // AppendEntries with entries (§5.3)
  kAppendResp,
  kHeartbeat,  // AppendEntries without entries; carries the commit index
  kHeartbeatResp,
  kTimeoutNow,  // leadership transfer (thesis §3.10): campaign now, skipping pre-vote
};

std::string_view to_string(MessageType type);

struct Message {
  MessageType type = MessageType::kHeartbeat;
  NodeId from = NodeId::kNone;
  NodeId to = NodeId::kNone;
  Term term;
  // kAppend: the entry before `entries`. kVote/kPreVote: the candidate's last entry.
  // kAppendResp: the last index now matching (accept) or the rejected index (reject).
  LogIndex index;
  Term log_term;
  std::vector<Entry> entries;
  LogIndex commit;
  bool reject = false;
  // kAppendResp rejects: the follower's hint for fast backtracking (§5.3, "the follower
  // can include the term of the conflicting entry"): its last index whose term is at most
  // log_term, and that term.
  LogIndex hint_index;
  Term hint_term;
  // kVote of a leadership transfer: the leader asked for it, so servers that still hear that
  // leader vote anyway (thesis §4.2.3 makes this exception).
  bool leader_transfer = false;
};

}  // namespace spofless::raft
