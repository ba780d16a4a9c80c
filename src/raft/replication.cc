// The leader's side of log replication (Raft §5.3): appends with flow control, snapshots for
// followers whose entries are compacted away, commitment, heartbeats, check-quorum and
// leadership transfer.

#include <algorithm>

#include <fmt/format.h>

#include "core/check.h"
#include "raft/raft.h"

namespace spofless::raft {

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
  std::size_t active = is_voter() ? 1 : 0;  // a leader being removed does not count itself
  for (auto& [id, pr] : progress_) {
    if (pr.recent_active && membership_.is_voter(id)) ++active;
    pr.recent_active = false;
  }
  return active >= quorum();
}

void Raft::step_leader(const Message& m) {
  if (m.type == MessageType::kReadIndex) {
    leader_read(m.from, m.context);
    return;
  }
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.last_contact_tick = ticks_;
  if (m.type == MessageType::kAppendResp) {
    handle_append_response(m, pr);
  } else if (m.type == MessageType::kHeartbeatResp) {
    handle_heartbeat_response(m, pr);
  }
}

void Raft::handle_append_response(const Message& m, Progress& pr) {
  if (m.log_lost && take_loss_report(m, pr)) {
    replicate_to(m.from);  // probe from what it proved
    return;
  }
  if (!m.log_lost && !m.reject && pr.fenced(m.index)) {
    // May predate the follower's loss: it proves nothing about its log now.
    pr.accepted_unverified(m.index);
    replicate_to(m.from);
    return;
  }
  if (m.reject) {
    // Refine the follower's hint with our own log: skip every entry of a term the
    // follower's hint entry cannot match.
    LogIndex hint = log_.last_index_with_term_at_most(m.hint_index, m.hint_term);
    if (pr.rejected(m.index, hint)) replicate_to(m.from);
    return;
  }
  if (pr.accepted(m.index) && maybe_commit()) {
    on_commit();
  } else {
    replicate_to(m.from);
  }
  if (role_ == Role::kLeader && m.from == transferee_) maybe_send_timeout_now(m.from);
}

void Raft::handle_heartbeat_response(const Message& m, Progress& pr) {
  pr.heard_from();
  pr.acked_round = std::max(pr.acked_round, m.round);
  pr.maybe_abort_snapshot(ticks_, config_.election_timeout_ticks);
  if (m.log_lost) pr.fence(log_.last_index());
  // A follower that lags but has nothing in flight to it (the appends and acks may all have
  // been lost) gets an append even if empty: it either matches or rejects, and a reject sends
  // it back to probing. So does one re-syncing a lost log, however caught up it looks: its
  // answer says what it holds now, and a later append tells it that this leader knows.
  if ((pr.match() < log_.last_index() || m.log_lost) && !replicate_to(m.from)) {
    send_append(m.from, Empty::kSend);
  }
  if (m.from == transferee_) maybe_send_timeout_now(m.from);  // the last one may be lost
  confirm_reads();
}

void Raft::maybe_send_timeout_now(NodeId to) {
  if (progress_.at(to).match() != log_.last_index()) return;  // not caught up yet
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  m.term = term_;
  // The target's election bypasses the followers' §4.2.3 promise, on which the lease rests:
  // no lease reads for the rest of this term (a delayed TimeoutNow may arrive much later).
  lease_revoked_ = true;
  send(std::move(m));
}

Status Raft::transfer_leadership(NodeId to) {
  if (role_ != Role::kLeader) return unavailable("not the leader");
  if (to == config_.id) return Status::ok();
  if (!membership_.is_voter(to)) {
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

bool Raft::send_append(NodeId to, Empty empty) {
  Progress& pr = progress_.at(to);
  if (!pr.can_send() && empty == Empty::kSkip) return false;
  if (pr.state() == Progress::State::kSnapshot) return false;
  if (pr.state() == Progress::State::kReplicate && pr.next() > log_.last_index() &&
      empty == Empty::kSkip) {
    return false;
  }
  LogIndex prev = pr.next().prev();
  std::optional<Term> prev_term = log_.term_at(prev);
  if (!prev_term) {  // compacted away: only the snapshot can catch this follower up
    send_snapshot(to);
    return true;
  }
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.term = term_;
  m.index = prev;
  m.log_term = *prev_term;
  m.entries = log_.slice(pr.next(), log_.last_index(), config_.max_entries_per_append);
  m.commit = log_.committed();
  m.log_lost = pr.resynced();  // see Raft::note_resync()
  pr.sent(m.entries.empty() ? prev : m.entries.back().index);
  send(std::move(m));
  return true;
}

void Raft::send_snapshot(NodeId to) {
  SPOFLESS_CHECK(snapshot_.index == log_.snapshot_index(), "the snapshot covers the compaction");
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.term = term_;
  m.snapshot = snapshot_;
  progress_.at(to).sent_snapshot(snapshot_.index, ticks_);
  send(std::move(m));
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
  ++round_;
  round_ticks_[round_] = ticks_;
  for (auto& [id, pr] : progress_) {
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    m.term = term_;
    m.commit = std::min(pr.match(), log_.committed());
    m.round = round_;
    send(std::move(m));
  }
  confirm_reads();  // a cluster of one confirms its own rounds
}

bool Raft::maybe_commit() {
  std::vector<LogIndex> matches;
  if (is_voter()) matches.push_back(log_.stable());  // the leader counts only what is durable
  for (const auto& [id, pr] : progress_) {
    if (membership_.is_voter(id)) matches.push_back(pr.match());
  }
  if (matches.size() < quorum()) return false;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  LogIndex candidate = matches[quorum() - 1];
  // Raft §5.4.2: only entries of the current term commit by counting replicas.
  if (candidate <= log_.committed() || log_.term_at(candidate) != term_) return false;
  log_.commit_to(candidate);
  return true;
}

void Raft::on_commit() {
  start_pending_reads();
  broadcast_append();  // followers learn the new commit index
  // Thesis §4.2.2: a leader that is not a voter of the membership it just committed steps
  // down; until then it led the cluster without counting itself.
  if (!is_voter() && membership_index() <= log_.committed()) {
    become_follower(term_, NodeId::kNone);
  }
}

}  // namespace spofless::raft
