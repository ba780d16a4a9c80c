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
      log_(state.snapshot_index, state.snapshot_term, std::move(state.entries)),
      term_(state.hard_state.term),
      vote_(state.hard_state.vote) {
  SPOFLESS_CHECK(std::count(config_.voters.begin(), config_.voters.end(), config_.id) == 1,
                 "a server is one of the voters");
  SPOFLESS_CHECK(config_.voters.size() <= limits::kRaftMaxVoters, "too many voters");
  SPOFLESS_CHECK(config_.heartbeat_ticks < config_.election_timeout_ticks / 2,
                 "heartbeat < election timeout / 2");
  log_.commit_to(state.hard_state.commit);
  persisted_hard_state_ = hard_state();
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

void Raft::become_follower(Term term, NodeId leader) {
  if (term != term_) {
    term_ = term;
    vote_ = NodeId::kNone;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  progress_.clear();
  transferee_ = NodeId::kNone;
  reset_election_timer();
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
  role_ = Role::kLeader;
  leader_ = config_.id;
  progress_.clear();
  transferee_ = NodeId::kNone;
  for (NodeId peer : config_.voters) {
    if (peer == config_.id) continue;
    Progress pr(log_.last_index().next(), config_.max_inflight_appends);
    pr.recent_active = true;  // give every follower one election timeout to answer
    pr.last_contact_tick = ticks_;
    progress_.emplace(peer, pr);
  }
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
  for (NodeId peer : config_.voters) {
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
  for (const auto& [id, vote] : votes_) (vote ? yes : no) += 1;
  if (yes >= quorum()) return Poll::kWon;
  if (no > config_.voters.size() - quorum()) return Poll::kLost;
  return Poll::kPending;
}

// --- Time ---

void Raft::tick() {
  ++ticks_;
  if (role_ == Role::kLeader) {
    tick_leader();
    return;
  }
  if (++election_elapsed_ >= randomized_timeout_) {
    campaign(config_.pre_vote ? Election::kPreVote : Election::kVote);
  }
}

void Raft::tick_leader() {
  if (transferee_ != NodeId::kNone && ++transfer_elapsed_ >= config_.election_timeout_ticks) {
    transferee_ = NodeId::kNone;  // the target did not take over: lead on, take proposals
  }
  if (++election_elapsed_ >= config_.election_timeout_ticks) {
    election_elapsed_ = 0;
    // Check-quorum (thesis §6.2): a leader cut off from a majority steps down, so that a
    // partitioned old leader stops acting as primary within one election timeout.
    if (config_.check_quorum && !quorum_active()) {
      become_follower(term_, NodeId::kNone);
      return;
    }
  }
  if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

bool Raft::quorum_active() {
  std::size_t active = 1;  // this leader
  for (auto& [id, pr] : progress_) {
    if (pr.recent_active) ++active;
    pr.recent_active = false;
  }
  return active >= quorum();
}

// --- Messages in ---

void Raft::step(const Message& m) {
  if (m.to != config_.id) return;
  if (m.term > term_) {
    bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
    // Thesis §4.2.3: while it hears from a current leader, a server ignores vote requests,
    // so that a server that was cut off cannot depose a healthy leader.
    bool in_lease = config_.check_quorum && leader_ != NodeId::kNone &&
                    election_elapsed_ < config_.election_timeout_ticks;
    if (vote_request && in_lease && !m.leader_transfer) return;
    bool future_grant = m.type == MessageType::kPreVoteResp && !m.reject;
    if (m.type != MessageType::kPreVote && !future_grant) {
      bool from_leader = m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat;
      become_follower(m.term, from_leader ? m.from : NodeId::kNone);
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
  bool grant = can_vote && (up_to_date || config_.testing_grant_stale_votes);
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
  if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat) {
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
  if (m.type == MessageType::kTimeoutNow) {
    campaign(Election::kTransfer);
    return;
  }
  if (m.type != MessageType::kAppend && m.type != MessageType::kHeartbeat) return;
  election_elapsed_ = 0;
  leader_ = m.from;
  if (m.type == MessageType::kAppend) {
    handle_append(m);
  } else {
    handle_heartbeat(m);
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
    log_.commit_to(std::min(m.commit, last));
    r.index = last;
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
  send(std::move(r));
}

void Raft::step_leader(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.last_contact_tick = ticks_;
  if (m.type == MessageType::kAppendResp) {
    handle_append_response(m, pr);
  } else if (m.type == MessageType::kHeartbeatResp) {
    pr.heard_from();
    // A follower that lags but has nothing in flight to it (the appends and acks may all have
    // been lost) gets an append even if empty: it either matches or rejects, and a reject
    // sends it back to probing.
    if (pr.match() < log_.last_index() && !replicate_to(m.from)) {
      send_append(m.from, Empty::kSend);
    }
    if (m.from == transferee_) maybe_send_timeout_now(m.from);  // the last one may be lost
  }
}

void Raft::handle_append_response(const Message& m, Progress& pr) {
  if (m.reject) {
    // Refine the follower's hint with our own log: skip every entry of a term the
    // follower's hint entry cannot match.
    LogIndex hint = log_.last_index_with_term_at_most(m.hint_index, m.hint_term);
    if (pr.rejected(m.index, hint)) replicate_to(m.from);
    return;
  }
  if (pr.accepted(m.index) && maybe_commit()) {
    broadcast_append();
  } else {
    replicate_to(m.from);
  }
  if (m.from == transferee_) maybe_send_timeout_now(m.from);
}

void Raft::maybe_send_timeout_now(NodeId to) {
  if (progress_.at(to).match() != log_.last_index()) return;  // not caught up yet
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  m.term = term_;
  send(std::move(m));
}

Status Raft::transfer_leadership(NodeId to) {
  if (role_ != Role::kLeader) return unavailable("not the leader");
  if (to == config_.id) return Status::ok();
  if (!progress_.count(to)) {
    return invalid_argument(
        fmt::format("server {} is not a voter", static_cast<std::uint64_t>(to)));
  }
  if (transferee_ == to) return Status::ok();
  transferee_ = to;
  transfer_elapsed_ = 0;
  replicate_to(to);
  maybe_send_timeout_now(to);
  return Status::ok();
}

// --- Messages out ---

bool Raft::send_append(NodeId to, Empty empty) {
  Progress& pr = progress_.at(to);
  if (!pr.can_send() && empty == Empty::kSkip) return false;
  if (pr.state() == Progress::State::kReplicate && pr.next() > log_.last_index() &&
      empty == Empty::kSkip) {
    return false;
  }
  LogIndex prev = pr.next().prev();
  std::optional<Term> prev_term = log_.term_at(prev);
  if (!prev_term) return false;  // compacted away: needs a snapshot (not yet implemented)
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.term = term_;
  m.index = prev;
  m.log_term = *prev_term;
  m.entries = log_.slice(pr.next(), log_.last_index(), config_.max_entries_per_append);
  m.commit = log_.committed();
  pr.sent(m.entries.empty() ? prev : m.entries.back().index);
  send(std::move(m));
  return true;
}

bool Raft::replicate_to(NodeId to) {
  // Pipelining: in replicate state keep sending batches until the window is full.
  bool sent = false;
  while (send_append(to, Empty::kSkip)) {
    sent = true;
    if (progress_.at(to).state() != Progress::State::kReplicate) break;
  }
  return sent;
}

void Raft::broadcast_append() {
  for (auto& [id, pr] : progress_) replicate_to(id);
}

void Raft::broadcast_heartbeat() {
  for (auto& [id, pr] : progress_) {
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    m.term = term_;
    m.commit = std::min(pr.match(), log_.committed());
    send(std::move(m));
  }
}

bool Raft::maybe_commit() {
  std::vector<LogIndex> matches{log_.stable()};  // the leader counts only what is durable
  for (const auto& [id, pr] : progress_) matches.push_back(pr.match());
  std::sort(matches.begin(), matches.end(), std::greater<>());
  LogIndex candidate = matches[quorum() - 1];
  // Raft §5.4.2: only entries of the current term commit by counting replicas.
  if (candidate <= log_.committed() || log_.term_at(candidate) != term_) return false;
  log_.commit_to(candidate);
  return true;
}

void Raft::send(Message m) {
  m.from = config_.id;
  bool leader_traffic = role_ == Role::kLeader &&
                        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat);
  (leader_traffic ? messages_ : messages_after_persist_).push_back(std::move(m));
}

// --- Proposals, Ready, progress ---

Result<LogIndex> Raft::propose(std::string data) {
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
  LogIndex index = log_.last_index().next();
  log_.append({Entry{term_, index, EntryType::kNormal, std::move(data)}});
  broadcast_append();
  return index;
}

bool Raft::has_ready() const {
  return hard_state() != persisted_hard_state_ || log_.stable() < log_.last_index() ||
         !messages_.empty() || !messages_after_persist_.empty() ||
         log_.applied() < log_.committed();
}

Ready Raft::ready() {
  SPOFLESS_CHECK(!ready_pending_, "advance() the previous Ready first");
  ready_pending_ = true;
  Ready rd;
  if (hard_state() != persisted_hard_state_) rd.hard_state = hard_state();
  rd.entries = log_.unstable();
  rd.messages = std::move(messages_);
  rd.messages_after_persist = std::move(messages_after_persist_);
  messages_.clear();
  messages_after_persist_.clear();
  rd.committed = log_.slice(log_.applied().next(), log_.committed(),
                            log_.committed().value - log_.applied().value);
  return rd;
}

void Raft::advance(const Ready& rd) {
  SPOFLESS_CHECK(ready_pending_, "advance() follows ready()");
  ready_pending_ = false;
  if (rd.hard_state) persisted_hard_state_ = *rd.hard_state;
  if (!rd.entries.empty()) log_.stable_to(rd.entries.back().index, rd.entries.back().term);
  if (!rd.committed.empty()) log_.applied_to(rd.committed.back().index);
  // The leader's own write may complete a durable majority (thesis §10.2.1).
  if (role_ == Role::kLeader && maybe_commit()) broadcast_append();
}

std::vector<FollowerProgress> Raft::progress() const {
  std::vector<FollowerProgress> out;
  for (const auto& [id, pr] : progress_) {
    out.push_back(FollowerProgress{id, pr.match(), log_.last_index().value - pr.match().value,
                                   ticks_ - pr.last_contact_tick,
                                   pr.state() == Progress::State::kReplicate});
  }
  return out;
}

}  // namespace spofless::raft
