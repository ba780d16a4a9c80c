#pragma once

// A Raft server as a pure state machine, in the shape of etcd's raft package: no I/O, no
// threads, no clock. The caller drives it with tick() (logical time), step() (a message
// from a peer) and propose(), then takes a Ready batch of work, does it, and calls
// advance():
//
//   while (raft.has_ready()) {
//     Ready rd = raft.ready();
//     send(rd.messages);                    // leader appends: in parallel with the disk
//     persist(rd.hard_state, rd.entries);   // fsync
//     send(rd.messages_after_persist);      // votes and acks promise what is now durable
//     apply(rd.committed);
//     raft.advance(rd);
//   }
//
// The leader persists its own entries in parallel with replicating them (Raft thesis
// §10.2.1): it counts itself toward a commit only for entries advance() reported durable.
//
// Implemented so far: leader election with randomized timeouts, pre-vote (thesis §9.6) and
// check-quorum (§6.2), the §4.2.3 rule that a server hearing from a current leader ignores
// vote requests, log replication with batching, pipelining and per-follower flow control,
// fast backtracking of rejected appends, leadership transfer (§3.10), and per-follower
// progress for monitoring.
// Still to come (issue 3): ReadIndex and lease reads, learners, membership changes,
// snapshots.
//
// Single-threaded: one instance belongs to one thread.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/random.h"
#include "core/result.h"
#include "raft/log.h"
#include "raft/progress.h"
#include "raft/types.h"

namespace spofless::raft {

struct Config {
  NodeId id = NodeId::kNone;
  std::vector<NodeId> voters;  // every voter, this server included
  // A follower that hears nothing for a random time in [T, 2T) ticks campaigns.
  std::uint32_t election_timeout_ticks = limits::kRaftElectionTimeoutTicks;
  std::uint32_t heartbeat_ticks = limits::kRaftHeartbeatTicks;
  bool pre_vote = true;
  bool check_quorum = true;
  std::size_t max_inflight_appends = limits::kRaftMaxInflightAppends;
  std::size_t max_entries_per_append = limits::kRaftMaxEntriesPerAppend;
  // Test-only fault: grant votes without the §5.4.1 log check. The simulator turns it on
  // to prove its checkers catch a broken election restriction; nothing else may.
  bool testing_grant_stale_votes = false;
};

// What a restarted server reads back from its disk.
struct PersistentState {
  HardState hard_state;
  LogIndex snapshot_index;
  Term snapshot_term;
  std::vector<Entry> entries;  // after the snapshot
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view to_string(Role role);

struct Ready {
  std::optional<HardState> hard_state;  // set when it changed: persist it
  // Persist these, replacing any persisted entries at or after entries.front().index.
  std::vector<Entry> entries;
  std::vector<Message> messages;                // send at once
  std::vector<Message> messages_after_persist;  // send once hard_state and entries are durable
  std::vector<Entry> committed;                 // apply, in order
};

// A leader's view of one follower, for /metrics and /status.
struct FollowerProgress {
  NodeId id = NodeId::kNone;
  LogIndex match;
  std::uint64_t entries_behind = 0;
  std::uint64_t ticks_since_contact = 0;
  bool replicating = false;  // false while probing for the follower's log position
};

class Raft {
 public:
  // REQUIRES: config.id is among config.voters; `random` outlives the Raft.
  Raft(Config config, PersistentState state, Random& random);

  void tick();
  // Messages for another server, or from a term long gone, are dropped.
  void step(const Message& message);
  // Appends `data` to the log. unavailable on a non-leader (message names the leader if
  // known), resource_exhausted when too many entries await commit.
  Result<LogIndex> propose(std::string data);
  // Planned switchover (thesis §3.10): stop taking proposals, bring `to` up to date, then tell
  // it to campaign at once. Aborted if `to` has not taken over within an election timeout.
  // unavailable on a non-leader; invalid_argument when `to` is not a voter.
  Status transfer_leadership(NodeId to);
  NodeId transferring_to() const { return transferee_; }

  bool has_ready() const;
  // REQUIRES: the previous Ready was advanced.
  Ready ready();
  // The caller did everything `ready` asked.
  void advance(const Ready& ready);

  NodeId id() const { return config_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId leader() const { return leader_; }
  const RaftLog& log() const { return log_; }
  HardState hard_state() const { return {term_, vote_, log_.committed()}; }
  std::vector<FollowerProgress> progress() const;  // empty unless leader

 private:
  using Votes = std::map<NodeId, bool>;
  enum class Poll { kPending, kWon, kLost };
  enum class Election { kPreVote, kVote, kTransfer };
  enum class Empty { kSkip, kSend };  // whether an append with no new entries is worth sending

  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(Election election);
  Poll record_vote(NodeId from, bool granted);
  void reset_election_timer();

  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_append_response(const Message& m, Progress& pr);
  void maybe_send_timeout_now(NodeId to);

  void tick_leader();
  bool quorum_active();
  bool send_append(NodeId to, Empty empty);
  bool replicate_to(NodeId to);  // true when it sent anything
  void broadcast_append();
  void broadcast_heartbeat();
  bool maybe_commit();
  void send(Message m);
  std::size_t quorum() const { return config_.voters.size() / 2 + 1; }

  Config config_;
  Random& random_;
  RaftLog log_;
  Role role_ = Role::kFollower;
  Term term_;
  NodeId vote_ = NodeId::kNone;
  NodeId leader_ = NodeId::kNone;
  Votes votes_;
  std::map<NodeId, Progress> progress_;  // leader only; every voter but this one
  std::uint64_t ticks_ = 0;
  std::uint32_t election_elapsed_ = 0;
  std::uint32_t heartbeat_elapsed_ = 0;
  std::uint32_t randomized_timeout_ = 0;
  NodeId transferee_ = NodeId::kNone;  // leader only: a transfer in progress to this voter
  std::uint32_t transfer_elapsed_ = 0;
  std::vector<Message> messages_;
  std::vector<Message> messages_after_persist_;
  HardState persisted_hard_state_;
  bool ready_pending_ = false;
};

}  // namespace spofless::raft
