#pragma once

// Raft's vocabulary: ids, terms, indexes, log entries, hard state and messages.
// Plain values; the wire and disk encodings (protobuf) belong to the server, not here.

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
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

enum class EntryType : std::uint8_t {
  kNormal,      // the application's data
  kNoop,        // a new leader's first entry (Raft §5.4.2)
  kMembership,  // a membership change: data is encode(Membership) (thesis §4.1)
};

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

// Who takes part: voters elect and make a majority; learners only receive the log (async
// read replicas). A server is in at most one of the two sets.
struct Membership {
  std::set<NodeId> voters;
  std::set<NodeId> learners;

  bool is_voter(NodeId id) const { return voters.count(id) > 0; }
  bool is_learner(NodeId id) const { return learners.count(id) > 0; }
  bool is_member(NodeId id) const { return is_voter(id) || is_learner(id); }
  // The voters a majority needs (Raft §5.2).
  std::size_t quorum() const { return voters.size() / 2 + 1; }
  bool operator==(const Membership&) const = default;
};

// One membership change: the unit of the thesis's one-server-at-a-time algorithm (§4.1).
struct ConfChange {
  enum class Kind : std::uint8_t {
    kAddLearner,  // a new server starts receiving the log, without a vote
    kAddVoter,    // a learner (or a new server) becomes a voter
    kRemove,      // a voter or learner leaves
  };
  Kind kind = Kind::kAddLearner;
  NodeId node = NodeId::kNone;

  bool operator==(const ConfChange&) const = default;
};

// A membership entry's data is the whole membership it sets: "voters=1,2,3 learners=4".
std::string encode(const Membership& m);
// nothing when `data` is not an encoded Membership
std::optional<Membership> decode_membership(std::string_view data);
// The membership after `change`, which Raft::propose_membership has validated.
Membership apply(Membership m, const ConfChange& change);

// The application's state as of `index` (its last entry's term is `term`), with the
// membership in force there, standing in for every entry up to `index` (Raft §7).
struct Snapshot {
  LogIndex index;
  Term term;
  Membership membership;
  std::string data;  // opaque to Raft: the application's serialized state

  bool operator==(const Snapshot&) const = default;
};

// A linearizable read may be served once the server has applied up to `index` (thesis §6.4).
struct ReadState {
  LogIndex index;
  std::string context;  // the caller's, from read_index()

  bool operator==(const ReadState&) const = default;
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
  kReadIndex,   // a follower asks the leader for a read index (thesis §6.4)
  kReadIndexResp,
  kSnapshot,  // InstallSnapshot (§7): replaces a follower's log it cannot catch up by entries
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
  // kHeartbeat and its response: the leader's heartbeat round, echoed. A majority's
  // acknowledgement of round r proves the leader still led when r was sent: ReadIndex and the
  // read lease count rounds (thesis §6.4).
  std::uint64_t round = 0;
  // kReadIndex and its response: the follower's read context, echoed. kReadIndexResp:
  // `index` is the read index; reject when the leader could not serve it.
  std::string context;
  std::optional<Snapshot> snapshot;  // kSnapshot
  // kAppendResp and kHeartbeatResp from a server that lost log entries to disk corruption
  // (Config::log_lost): its `index` may be below what the leader recorded as matching. kAppend:
  // the leader answers that it counts only what that server proved since the loss, which lets
  // the server leave the lost state (docs/raft.md, "Lost log").
  bool log_lost = false;
};

}  // namespace spofless::raft
