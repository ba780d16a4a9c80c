// Linearizable reads without writing to the log (Raft thesis §6.4).
//
// ReadIndex: the leader notes its commit index when a read arrives, then proves it still leads
// by a heartbeat round that a majority acknowledges; once the state machine has applied that
// index, the read sees every write acknowledged before it arrived. A leader that has not yet
// committed an entry of its own term does not know the true commit index, so its reads wait
// for that first commit.
//
// Lease: a majority that acknowledged a heartbeat sent at tick t promised (§4.2.3) not to elect
// another leader until an election timeout after they received it. Until t plus that timeout,
// shortened for clock drift, the leader answers reads at once.

#include <algorithm>

#include "raft/raft.h"

namespace spofless::raft {

namespace {

// Heartbeat rounds whose send tick is remembered while unconfirmed: a bound for a leader that
// hears from no majority and lacks check-quorum to step down.
constexpr std::size_t kMaxUnconfirmedRounds = 1024;

}  // namespace

bool Raft::reads_full() const {
  return pending_reads_.size() + reads_before_commit_.size() >= limits::kRaftMaxPendingReads;
}

Status Raft::read_index(std::string context) {
  if (role_ == Role::kLeader) {
    if (reads_full()) return resource_exhausted("too many reads pending");
    leader_read(config_.id, std::move(context));
    return Status::ok();
  }
  if (leader_ == NodeId::kNone) return unavailable("no leader known");
  Message m;
  m.type = MessageType::kReadIndex;
  m.to = leader_;
  m.term = term_;
  m.context = std::move(context);
  send(std::move(m));
  return Status::ok();
}

void Raft::leader_read(NodeId from, std::string context) {
  if (reads_full()) {  // only a forwarded read gets here: shed it, the follower's caller retries
    Message r;
    r.type = MessageType::kReadIndexResp;
    r.to = from;
    r.term = term_;
    r.reject = true;
    r.context = std::move(context);
    send(std::move(r));
    return;
  }
  PendingRead read{0, log_.committed(), std::move(context), from};
  if (!committed_in_term()) {
    reads_before_commit_.push_back(std::move(read));
    return;
  }
  if (has_lease()) {
    answer_read(read);
    return;
  }
  read.round = round_ + 1;
  pending_reads_.push_back(std::move(read));
  broadcast_heartbeat();  // sends round_ + 1
}

void Raft::start_pending_reads() {
  if (reads_before_commit_.empty() || !committed_in_term()) return;
  std::vector<PendingRead> reads = std::move(reads_before_commit_);
  reads_before_commit_.clear();
  for (PendingRead& read : reads) {
    read.index = log_.committed();
    if (has_lease()) {
      answer_read(read);
    } else {
      read.round = round_ + 1;
      pending_reads_.push_back(std::move(read));
    }
  }
  if (!pending_reads_.empty() && pending_reads_.back().round > round_) broadcast_heartbeat();
}

void Raft::confirm_reads() {
  std::vector<std::uint64_t> acks;
  if (is_voter()) acks.push_back(round_);
  for (const auto& [id, pr] : progress_) {
    if (membership_.is_voter(id)) acks.push_back(pr.acked_round);
  }
  if (acks.size() < quorum()) return;
  std::sort(acks.begin(), acks.end(), std::greater<>());
  std::uint64_t confirmed = acks[quorum() - 1];
  if (confirmed > confirmed_round_) {
    confirmed_round_ = confirmed;
    if (auto it = round_ticks_.find(confirmed); it != round_ticks_.end()) {
      lease_from_tick_ = it->second;
    }
    round_ticks_.erase(round_ticks_.begin(), round_ticks_.upper_bound(confirmed));
  }
  while (round_ticks_.size() > kMaxUnconfirmedRounds) round_ticks_.erase(round_ticks_.begin());
  while (!pending_reads_.empty() && pending_reads_.front().round <= confirmed_round_) {
    answer_read(pending_reads_.front());
    pending_reads_.pop_front();
  }
}

void Raft::answer_read(const PendingRead& read) {
  if (read.from == config_.id) {
    read_states_.push_back(ReadState{read.index, read.context});
    return;
  }
  Message r;
  r.type = MessageType::kReadIndexResp;
  r.to = read.from;
  r.term = term_;
  r.index = read.index;
  r.context = read.context;
  send(std::move(r));
}

std::uint32_t Raft::lease_ticks() const {
  // A follower that received the heartbeat refuses votes for election_timeout of its own
  // ticks, the first of which may come right after it: at least (T - 1) tick periods. The
  // leader's count of ticks since sending undercounts by up to one period, and the clocks may
  // drift apart: valid while (ticks since sending + 1) * (1 + drift) <= T - 1.
  return (config_.election_timeout_ticks - 1) * 100 / (100 + config_.max_clock_drift_percent);
}

bool Raft::has_lease() const {
  return role_ == Role::kLeader && config_.read_mode == ReadMode::kLease && !lease_revoked_ &&
         transferee_ == NodeId::kNone && lease_from_tick_.has_value() &&
         ticks_ - *lease_from_tick_ < lease_ticks();
}

}  // namespace spofless::raft
