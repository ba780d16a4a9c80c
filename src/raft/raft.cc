// The server's roles, elections, the follower's side of replication, proposals and Ready.
// The leader's side is in replication.cc, reads in read_index.cc, membership and snapshots in
// membership.cc, the re-sync of a log that lost entries in lost_log.cc.

#include "raft/raft.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::raft {

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResp:
      return "PreVoteResp";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResp:
      return "VoteResp";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResp:
      return "AppendResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResp:
      return "HeartbeatResp";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResp:
      return "ReadIndexResp";
    case MessageType::kSnapshot:
      return "Snapshot";
  }
  return "unknown";
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

Raft::Raft(Config config, PersistentState state, Random& random)
    : config_(std::move(config)),
      random_(random),
      log_(state.snapshot.index, state.snapshot.term, std::move(state.entries)),
      term_(state.hard_state.term),
      vote_(state.hard_state.vote),
      log_lost_(config_.log_lost),
      snapshot_(std::move(state.snapshot)) {
  std::set<NodeId> voters(config_.voters.begin(), config_.voters.end());
  SPOFLESS_CHECK(voters.empty() || voters.count(config_.id) == 1,
                 "a bootstrapping server is one of the voters");
  SPOFLESS_CHECK(voters.size() == config_.voters.size(), "voters are distinct");
  SPOFLESS_CHECK(voters.size() <= limits::kRaftMaxVoters, "too many voters");
  SPOFLESS_CHECK(config_.heartbeat_ticks < config_.election_timeout_ticks / 2,
                 "heartbeat < election timeout / 2");
  SPOFLESS_CHECK(config_.read_mode != ReadMode::kLease || config_.check_quorum,
                 "lease reads need check_quorum");
  persisted_hard_state_ = state.hard_state;
  fresh_start_ = config_.read_mode == ReadMode::kLease;
  bool disk_empty = persisted_hard_state_ == HardState{} && log_.last_index() == LogIndex{};
  if (disk_empty && !voters.empty() && !log_lost_) {
    // Bootstrap: the first membership is entry 1, committed, identical on every first voter,
    // so that a server joining later learns it from the log like any other change.
    // The entry is not stable yet: the first Ready persists it.
    term_ = Term{1};
    log_.append({Entry{Term{1}, LogIndex{1}, EntryType::kMembership,
                       encode(Membership{voters, {}})}});
    log_.commit_to(LogIndex{1});
  } else if (log_lost_) {
    // The commit index survived the entries it covered: only what is still here is committed
    // here. The rest comes back from the leader.
    log_.commit_to(std::min(state.hard_state.commit, log_.last_index()));
  } else {
    log_.commit_to(state.hard_state.commit);
  }
  load_membership();
  become_follower(term_, NodeId::kNone);
}

// --- Roles ---

void Raft::reset_election_timer() {
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  // Randomized in [T, 2T) so that split votes resolve (Raft §5.2).
  randomized_timeout_ = static_cast<std::uint32_t>(
      random_.uniform(config_.election_timeout_ticks, 2 * config_.election_timeout_ticks - 1));
}

void Raft::become_follower(Term term, NodeId leader, Timer timer) {
  if (term != term_) {
    term_ = term;
    vote_ = NodeId::kNone;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  progress_.clear();
  transferee_ = NodeId::kNone;
  // Reads waiting for this server's leadership cannot complete any more; their callers'
  // deadlines retry them elsewhere.
  reads_before_commit_.clear();
  pending_reads_.clear();
  round_ticks_.clear();
  lease_from_tick_.reset();
  if (timer == Timer::kRestart) reset_election_timer();
}

void Raft::become_pre_candidate() {
  // Thesis §9.6: neither term nor vote changes until a majority would vote for us.
  role_ = Role::kPreCandidate;
  leader_ = NodeId::kNone;
  votes_.clear();
  reset_election_timer();
}

void Raft::become_candidate() {
  SPOFLESS_CHECK(role_ != Role::kLeader, "a leader does not campaign");
  term_ = term_.next();
  vote_ = config_.id;
  role_ = Role::kCandidate;
  leader_ = NodeId::kNone;
  votes_.clear();
  reset_election_timer();
}

void Raft::become_leader() {
  SPOFLESS_CHECK(role_ == Role::kCandidate, "only a candidate becomes leader");
  SPOFLESS_CHECK(!log_lost_, "a server re-syncing a lost log never campaigns");
  role_ = Role::kLeader;
  leader_ = config_.id;
  progress_.clear();
  transferee_ = NodeId::kNone;
  round_ = 0;
  confirmed_round_ = 0;
  lease_revoked_ = false;
  set_membership(membership_);  // a Progress for every other member
  reset_election_timer();
  // A no-op entry of the new term: entries of earlier terms commit only under one of the
  // leader's own term (Raft §5.4.2, Figure 8).
  log_.append({Entry{term_, log_.last_index().next(), EntryType::kNoop, {}}});
  broadcast_append();
  maybe_commit();  // a cluster of one commits alone once the entry is durable
}

void Raft::campaign(Election election) {
  MessageType type = MessageType::kVote;
  Term term;
  if (election == Election::kPreVote) {
    become_pre_candidate();
    type = MessageType::kPreVote;
    term = term_.next();
  } else {  // a transfer skips pre-vote: the leader vouched for this campaign
    become_candidate();
    term = term_;
  }
  if (record_vote(config_.id, true) == Poll::kWon) {  // a cluster of one
    if (type == MessageType::kPreVote) {
      campaign(Election::kVote);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId peer : membership_.voters) {
    if (peer == config_.id) continue;
    Message m;
    m.type = type;
    m.to = peer;
    m.term = term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.leader_transfer = election == Election::kTransfer;
    send(std::move(m));
  }
}

Raft::Poll Raft::record_vote(NodeId from, bool granted) {
  votes_.try_emplace(from, granted);
  std::size_t yes = 0;
  std::size_t no = 0;
  for (const auto& [id, vote] : votes_) {
    if (membership_.is_voter(id)) (vote ? yes : no) += 1;  // only voters count (thesis §4.1)
  }
  if (yes >= quorum()) return Poll::kWon;
  if (no > membership_.voters.size() - quorum()) return Poll::kLost;
  return Poll::kPending;
}

// --- Time ---

void Raft::tick() {
  ++ticks_;
  if (role_ == Role::kLeader) {
    tick_leader();
    return;
  }
  if (++election_elapsed_ >= config_.election_timeout_ticks) fresh_start_ = false;
  if (election_elapsed_ >= randomized_timeout_) {
    if (is_voter() && !log_lost_) {
      campaign(config_.pre_vote ? Election::kPreVote : Election::kVote);
    } else {
      // A learner, a removed server or one re-syncing a lost log never campaigns, but it
      // forgets a leader it has not heard from: kept, that leader would hold its §4.2.3 lease
      // forever, and a learner promoted without knowing it yet would refuse the votes that a
      // new leader needs.
      become_follower(term_, NodeId::kNone);
    }
  }
}

// --- Messages in ---

bool Raft::in_lease() const {
  // Thesis §4.2.3: while it hears from a current leader, a server ignores vote requests, so that
  // a server that was cut off cannot depose a healthy leader. A server that just started keeps
  // the promise it may have made before the restart: a leader's lease reads rely on it.
  return config_.check_quorum && (leader_ != NodeId::kNone || fresh_start_) &&
         election_elapsed_ < config_.election_timeout_ticks;
}

void Raft::step(const Message& m) {
  if (m.to != config_.id) return;
  if (m.term > term_) {
    bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
    if (vote_request && in_lease() && !m.leader_transfer) return;
    bool future_grant = m.type == MessageType::kPreVoteResp && !m.reject;
    if (m.type != MessageType::kPreVote && !future_grant) {
      bool from_leader = m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
                         m.type == MessageType::kSnapshot;
      // Only a granted vote restarts the election timer (Raft Figure 2), and granting is
      // decided below. A candidate whose log is behind cannot win; if its requests restarted
      // everyone's timer, the servers that could win would never time out first, and a
      // lagging voter that keeps campaigning (no pre-vote, no check-quorum) would keep the
      // cluster leaderless.
      Timer timer = m.type == MessageType::kVote ? Timer::kKeep : Timer::kRestart;
      become_follower(m.term, from_leader ? m.from : NodeId::kNone, timer);
    }
  } else if (m.term < term_) {
    // Tell a stale leader or pre-candidate about the newer term; with check-quorum or
    // pre-vote it could otherwise never learn it (etcd #8243).
    Message r;
    r.to = m.from;
    r.term = term_;
    r.reject = true;
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      r.type = MessageType::kAppendResp;
      r.index = m.index;
      send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      r.type = MessageType::kPreVoteResp;
      send(std::move(r));
    }
    return;
  }
  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case Role::kLeader:
      step_leader(m);
      break;
    case Role::kPreCandidate:
    case Role::kCandidate:
      step_candidate(m);
      break;
    case Role::kFollower:
      step_follower(m);
      break;
  }
}

void Raft::handle_vote_request(const Message& m) {
  bool pre = m.type == MessageType::kPreVote;
  bool can_vote = vote_ == m.from || (vote_ == NodeId::kNone && leader_ == NodeId::kNone) ||
                  (pre && m.term > term_);
  bool up_to_date = log_.is_up_to_date(m.index, m.log_term);  // Raft §5.4.1
  // A log that lost entries cannot tell whether the candidate lacks a committed one: §5.4.1
  // compares against what this server acknowledged, not against what survived.
  bool grant = can_vote && !log_lost_ && (up_to_date || config_.testing_grant_stale_votes);
  Message r;
  r.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  r.to = m.from;
  if (grant) {
    r.term = m.term;  // a pre-vote is granted for the term the candidate will take
    if (!pre) {
      vote_ = m.from;
      election_elapsed_ = 0;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Raft::step_candidate(const Message& m) {
  MessageType answer =
      role_ == Role::kPreCandidate ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
      m.type == MessageType::kSnapshot) {
    become_follower(m.term, m.from);  // a leader of this term exists (§5.2)
    step_follower(m);
    return;
  }
  if (m.type != answer) return;
  switch (record_vote(m.from, !m.reject)) {
    case Poll::kWon:
      if (role_ == Role::kPreCandidate) {
        campaign(Election::kVote);
      } else {
        become_leader();
      }
      break;
    case Poll::kLost:
      become_follower(term_, NodeId::kNone);
      break;
    case Poll::kPending:
      break;
  }
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kTimeoutNow:
      if (is_voter() && !log_lost_) campaign(Election::kTransfer);
      return;
    case MessageType::kReadIndexResp:
      if (!m.reject) read_states_.push_back(ReadState{m.index, m.context});
      return;
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      break;
    default:
      return;
  }
  election_elapsed_ = 0;
  leader_ = m.from;
  fresh_start_ = false;  // from here on, in_lease() follows this leader
  if (m.type == MessageType::kAppend) {
    handle_append(m);
  } else if (m.type == MessageType::kHeartbeat) {
    handle_heartbeat(m);
  } else {
    handle_snapshot(m);
  }
}

void Raft::handle_append(const Message& m) {
  Message r;
  r.type = MessageType::kAppendResp;
  r.to = m.from;
  r.term = term_;
  if (m.index < log_.committed()) {
    r.index = log_.committed();  // already have all of it committed
  } else if (log_.matches(m.index, m.log_term)) {
    LogIndex last = log_.place(m.index, m.entries);
    after_place(m.entries);
    log_.commit_to(std::min(m.commit, last));
    r.index = last;
    note_resync(m, last);
  } else {
    // Reject, with a hint that skips a whole term of conflicting entries per round trip.
    r.reject = true;
    r.index = m.index;
    r.hint_index = log_.last_index_with_term_at_most(m.index, m.log_term);
    r.hint_term = log_.term_at(r.hint_index).value_or(Term{});
  }
  send(std::move(r));
}

void Raft::handle_heartbeat(const Message& m) {
  // The leader sends min(our match, its commit): safe to commit without a log check.
  log_.commit_to(std::min(m.commit, log_.last_index()));
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = m.from;
  r.term = term_;
  r.round = m.round;
  send(std::move(r));
}

void Raft::handle_snapshot(const Message& m) {
  const Snapshot& s = *m.snapshot;
  Message r;
  r.type = MessageType::kAppendResp;
  r.to = m.from;
  r.term = term_;
  if (s.index <= log_.committed()) {
    r.index = log_.committed();  // nothing new in it
  } else if (log_.matches(s.index, s.term)) {
    log_.commit_to(s.index);  // the log already holds what it stands for (§7, Figure 13)
    r.index = s.index;
  } else {
    restore(s);
    r.index = s.index;  // sent once the snapshot is persisted
  }
  send(std::move(r));
}

void Raft::send(Message m) {
  m.from = config_.id;
  if (m.type == MessageType::kAppendResp || m.type == MessageType::kHeartbeatResp) {
    m.log_lost = log_lost_;
  }
  bool leader_traffic = role_ == Role::kLeader &&
                        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
                         m.type == MessageType::kSnapshot ||
                         m.type == MessageType::kReadIndexResp);
  (leader_traffic ? messages_ : messages_after_persist_).push_back(std::move(m));
}

// --- Proposals, Ready, progress ---

Status Raft::can_propose() const {
  if (role_ == Role::kLeader && transferee_ != NodeId::kNone) {
    // Refused, not queued: the client retries on the new leader, so no write fails.
    return unavailable(
        fmt::format("leadership is moving to {}", static_cast<std::uint64_t>(transferee_)));
  }
  if (role_ != Role::kLeader) {
    return unavailable(leader_ == NodeId::kNone ? std::string("not the leader; no leader known")
                                                : fmt::format("not the leader; leader is {}",
                                                              static_cast<std::uint64_t>(leader_)));
  }
  if (log_.last_index().value - log_.committed().value >= limits::kRaftMaxUncommittedEntries) {
    return resource_exhausted("too many entries await commit");
  }
  return Status::ok();
}

Result<LogIndex> Raft::propose(std::string data) {
  if (Status s = can_propose(); !s.is_ok()) return s;
  LogIndex index = log_.last_index().next();
  log_.append({Entry{term_, index, EntryType::kNormal, std::move(data)}});
  broadcast_append();
  return index;
}

bool Raft::has_ready() const {
  return hard_state() != persisted_hard_state_ || snapshot_unpersisted_ ||
         log_.stable() < log_.last_index() || !messages_.empty() ||
         !messages_after_persist_.empty() || log_.applied() < log_.committed() ||
         !read_states_.empty();
}

Ready Raft::ready() {
  SPOFLESS_CHECK(!ready_pending_, "advance() the previous Ready first");
  ready_pending_ = true;
  Ready rd;
  if (hard_state() != persisted_hard_state_) rd.hard_state = hard_state();
  if (snapshot_unpersisted_) rd.snapshot = snapshot_;
  rd.entries = log_.unstable();
  rd.messages = std::move(messages_);
  rd.messages_after_persist = std::move(messages_after_persist_);
  rd.read_states = std::move(read_states_);
  messages_.clear();
  messages_after_persist_.clear();
  read_states_.clear();
  rd.committed = log_.slice(log_.applied().next(), log_.committed(),
                            log_.committed().value - log_.applied().value);
  return rd;
}

void Raft::advance(const Ready& rd) {
  SPOFLESS_CHECK(ready_pending_, "advance() follows ready()");
  ready_pending_ = false;
  if (rd.hard_state) persisted_hard_state_ = *rd.hard_state;
  // A newer snapshot restored since ready() still waits for its own Ready.
  if (rd.snapshot && rd.snapshot->index == snapshot_.index) snapshot_unpersisted_ = false;
  if (!rd.entries.empty()) log_.stable_to(rd.entries.back().index, rd.entries.back().term);
  if (!rd.committed.empty()) log_.applied_to(rd.committed.back().index);
  maybe_leave_lost_log();
  // The leader's own write may complete a durable majority (thesis §10.2.1).
  if (role_ == Role::kLeader && maybe_commit()) on_commit();
}

std::vector<FollowerProgress> Raft::progress() const {
  std::vector<FollowerProgress> out;
  for (const auto& [id, pr] : progress_) {
    out.push_back(FollowerProgress{id, pr.match(), log_.last_index().value - pr.match().value,
                                   ticks_ - pr.last_contact_tick,
                                   pr.state() == Progress::State::kReplicate,
                                   membership_.is_learner(id)});
  }
  return out;
}

}  // namespace spofless::raft
