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
// It has leader election with randomized timeouts, pre-vote (thesis §9.6) and check-quorum
// (§6.2), the §4.2.3 rule that a server hearing from a current leader ignores vote requests,
// log replication with batching, pipelining and per-follower flow control, fast backtracking
// of rejected appends, leadership transfer (§3.10), linearizable reads by ReadIndex or a
// leader lease (§6.4), learners and one-server-at-a-time membership changes (§4.1), log
// compaction with InstallSnapshot (§5, chapter 5 of the thesis), per-follower progress for
// monitoring, and a safe re-sync for a server whose disk lost log entries (Config::log_lost).
// docs/raft.md says what each guarantees.
//
// Single-threaded: one instance belongs to one thread.

#include <deque>
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

// How read_index() confirms that this server still leads (thesis §6.4).
enum class ReadMode {
  // A heartbeat round acknowledged by a majority after the read arrived. Safe whatever the
  // clocks do; costs one round trip per batch of reads.
  kReadIndex,
  // No round trip while a majority acknowledged a heartbeat within the lease: voters that did
  // promise not to elect anyone else for an election timeout (§4.2.3). Safe only while clocks
  // drift apart by less than max_clock_drift_percent; needs check_quorum.
  kLease,
};

struct Config {
  NodeId id = NodeId::kNone;
  // The cluster's first voters, this server included, when it bootstraps a new cluster: a
  // server with nothing on disk writes them as the membership entry at index 1, so every
  // bootstrapping server must be given the same list. Empty for a server that joins an
  // existing cluster (it learns the membership from the leader) and ignored on a restart.
  std::vector<NodeId> voters;
  // A follower that hears nothing for a random time in [T, 2T) ticks campaigns.
  std::uint32_t election_timeout_ticks = limits::kRaftElectionTimeoutTicks;
  std::uint32_t heartbeat_ticks = limits::kRaftHeartbeatTicks;
  bool pre_vote = true;
  bool check_quorum = true;
  std::size_t max_inflight_appends = limits::kRaftMaxInflightAppends;
  std::size_t max_entries_per_append = limits::kRaftMaxEntriesPerAppend;
  ReadMode read_mode = ReadMode::kReadIndex;
  std::uint32_t max_clock_drift_percent = limits::kRaftMaxClockDriftPercent;
  // The server starts from a log that lost entries to disk corruption (a bad record in the
  // middle of its write-ahead log), entries it may have acknowledged. Until it has re-synced
  // from a leader (log_lost() turns false) it grants no votes or pre-votes, never campaigns,
  // ignores TimeoutNow, and flags every AppendResp and HeartbeatResp (Message::log_lost) so
  // that the leader counts only what it still holds. Set it again on every restart until
  // log_lost() has turned false: the server keeps a marker file. docs/raft.md, "Lost log".
  bool log_lost = false;
  // Test-only fault: grant votes without the §5.4.1 log check. The simulator turns it on
  // to prove its checkers catch a broken election restriction; nothing else may.
  bool testing_grant_stale_votes = false;
};

// What a restarted server reads back from its disk.
struct PersistentState {
  HardState hard_state;
  Snapshot snapshot;           // index 0 when there is none
  std::vector<Entry> entries;  // after the snapshot
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view to_string(Role role);

struct Ready {
  std::optional<HardState> hard_state;  // set when it changed: persist it
  // A snapshot from the leader: persist it (it replaces the whole log) and load it into the
  // state machine before applying `committed`.
  std::optional<Snapshot> snapshot;
  // Persist these, replacing any persisted entries at or after entries.front().index.
  std::vector<Entry> entries;
  std::vector<Message> messages;                // send at once
  std::vector<Message> messages_after_persist;  // send once hard_state and entries are durable
  std::vector<Entry> committed;                 // apply, in order
  // Reads confirmed linearizable: serve each once the state machine has applied its index.
  std::vector<ReadState> read_states;
};

// A leader's view of one follower, for /metrics and /status.
struct FollowerProgress {
  NodeId id = NodeId::kNone;
  LogIndex match;
  std::uint64_t entries_behind = 0;
  std::uint64_t ticks_since_contact = 0;
  bool replicating = false;  // false while probing for the follower's log position
  bool learner = false;
};

class Raft {
 public:
  // REQUIRES: config.voters is empty or includes config.id; `random` outlives the Raft.
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

  // Asks for a linearizable read (thesis §6.4) without writing to the log. Later, a Ready
  // carries ReadState{index, context}: the read may be served once the state machine has
  // applied `index`. A follower forwards the request to the leader; a request lost on the way,
  // or pending when leadership changes, never completes (the caller's deadline retries it).
  // unavailable when no leader is known; resource_exhausted when too many reads are pending.
  Status read_index(std::string context);

  // Proposes one membership change (thesis §4.1); it takes effect on every server as soon as
  // the entry is in its log, and is done when committed(). Refused (unavailable) on a
  // non-leader, while another change is uncommitted, before the leader has committed an entry
  // of its own term (the bug in the original single-server algorithm), during a transfer, and
  // when promoting a learner that lags; invalid_argument when the change makes no sense for
  // the current membership.
  Result<LogIndex> propose_membership(ConfChange change);
  // The membership in force here: the newest in the log, committed or not.
  const Membership& membership() const { return membership_; }

  // The application saved a snapshot of its state at `index` (<= applied) holding `data`;
  // entries up to `index` may be dropped from the log. Followers that need them get the
  // snapshot instead (InstallSnapshot). invalid_argument for an index not yet applied or
  // already compacted.
  Status compact(LogIndex index, std::string data);
  const Snapshot& snapshot() const { return snapshot_; }

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
  // Still re-syncing a log that lost entries (Config::log_lost). Turns false, for good, in the
  // advance() after which the log durably holds every entry a majority counting this server may
  // have committed; the server then removes its marker.
  bool log_lost() const { return log_lost_; }
  std::vector<FollowerProgress> progress() const;  // empty unless leader
  // Leader: whether a read served now without a round trip would be linearizable.
  bool has_lease() const;

 private:
  using Votes = std::map<NodeId, bool>;
  enum class Poll { kPending, kWon, kLost };
  enum class Election { kPreVote, kVote, kTransfer };
  enum class Empty { kSkip, kSend };  // whether an append with no new entries is worth sending

  // A read waiting for a majority to acknowledge heartbeat round `round` (thesis §6.4).
  struct PendingRead {
    std::uint64_t round = 0;
    LogIndex index;
    std::string context;
    NodeId from = NodeId::kNone;  // this server, or the follower that forwarded it
  };

  // raft.cc: roles, elections, followers, Ready.
  enum class Timer { kRestart, kKeep };  // what becoming a follower does to the election timer
  void become_follower(Term term, NodeId leader, Timer timer = Timer::kRestart);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(Election election);
  Poll record_vote(NodeId from, bool granted);
  void reset_election_timer();
  bool in_lease() const;
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void send(Message m);
  Status can_propose() const;  // ok, or why a proposal is refused here now
  bool is_voter() const { return membership_.is_voter(config_.id); }
  std::size_t quorum() const { return membership_.quorum(); }
  bool committed_in_term() const { return log_.term_at(log_.committed()) == term_; }

  // replication.cc: the leader's side of the log.
  void step_leader(const Message& m);
  void tick_leader();
  bool quorum_active();
  void handle_append_response(const Message& m, Progress& pr);
  void handle_heartbeat_response(const Message& m, Progress& pr);
  void maybe_send_timeout_now(NodeId to);
  bool send_append(NodeId to, Empty empty);
  void send_snapshot(NodeId to);
  bool replicate_to(NodeId to);  // true when it sent anything
  void broadcast_append();
  void broadcast_heartbeat();
  bool maybe_commit();
  void on_commit();  // the leader's commit index moved

  // lost_log.cc: re-syncing a log that lost entries (docs/raft.md, "Lost log").
  void note_resync(const Message& m, LogIndex last);  // a follower placed an append up to `last`
  void maybe_leave_lost_log();                        // in advance()
  bool take_loss_report(const Message& m, Progress& pr);  // leader: m carries log_lost

  // read_index.cc: linearizable reads.
  bool reads_full() const;  // pending reads at the limit: shed more
  void leader_read(NodeId from, std::string context);
  void start_pending_reads();  // once the leader has committed in its term
  void confirm_reads();        // after a heartbeat response
  void answer_read(const PendingRead& read);
  std::uint32_t lease_ticks() const;

  // membership.cc: membership changes and snapshots.
  LogIndex membership_index() const;  // of the newest membership entry (or the snapshot)
  void load_membership();  // from the snapshot and the log's membership entries
  void note_membership(const Entry& e);  // records `e` if it is a membership entry
  void use_newest_membership();          // the newest noted, or the snapshot's
  void set_membership(const Membership& m);
  void after_place(const std::vector<Entry>& placed);  // a follower placed entries
  Status validate(const ConfChange& change) const;
  void restore(const Snapshot& snapshot);

  Config config_;
  Random& random_;
  RaftLog log_;
  Role role_ = Role::kFollower;
  Term term_;
  NodeId vote_ = NodeId::kNone;
  NodeId leader_ = NodeId::kNone;
  Votes votes_;
  std::map<NodeId, Progress> progress_;  // leader only; every member but this one
  std::uint64_t ticks_ = 0;
  std::uint32_t election_elapsed_ = 0;
  std::uint32_t heartbeat_elapsed_ = 0;
  std::uint32_t randomized_timeout_ = 0;
  // With lease reads: since it started, this server has not yet waited out an election
  // timeout. Before a restart it may have promised a leader not to vote for anyone else that
  // long (§4.2.3), and that leader's lease relies on the promise.
  bool fresh_start_ = false;
  // Re-syncing a log that lost entries (Config::log_lost), and, once an append from a leader
  // proved it enough, the index the log must hold durably to stop (see note_resync()).
  bool log_lost_ = false;
  std::optional<LogIndex> resync_through_;
  NodeId transferee_ = NodeId::kNone;  // leader only: a transfer in progress to this voter
  std::uint32_t transfer_elapsed_ = 0;

  // Membership: the newest in the log, and the log's membership entries (index -> the
  // membership it sets) after the snapshot, for a truncation to roll back to.
  Membership membership_;
  std::map<LogIndex, Membership> membership_entries_;
  Snapshot snapshot_;
  bool snapshot_unpersisted_ = false;  // restored from the leader; goes out in the next Ready

  // Reads (leader only, except read_states_).
  std::uint64_t round_ = 0;                        // the last heartbeat round sent
  std::map<std::uint64_t, std::uint64_t> round_ticks_;  // round -> tick sent, unconfirmed ones
  std::uint64_t confirmed_round_ = 0;  // the newest round a majority acknowledged
  std::optional<std::uint64_t> lease_from_tick_;  // when confirmed_round_ was sent
  bool lease_revoked_ = false;  // a TimeoutNow went out this term: no lease reads until the next
  std::vector<PendingRead> reads_before_commit_;
  std::deque<PendingRead> pending_reads_;
  std::vector<ReadState> read_states_;

  std::vector<Message> messages_;
  std::vector<Message> messages_after_persist_;
  HardState persisted_hard_state_;
  bool ready_pending_ = false;
};

}  // namespace spofless::raft
