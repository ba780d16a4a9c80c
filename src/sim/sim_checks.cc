// The checkers. On every apply: state-machine safety, by entry and by the state it leaves
// (snapshots included). On every tick: one leader per term, only voters campaign and lead, and
// a new leader holds every committed entry its snapshot does not stand for. Every few ticks:
// log matching. At the end: no acknowledged write lost, linearizability, liveness.

#include <algorithm>

#include <fmt/format.h>

#include "sim/simulation.h"

namespace spofless::sim {

namespace {

// The newest index, among those both logs hold, where `x` and `y` differ although they agree
// on the term of some index at or above it; none when the two logs match.
std::optional<LogIndex> differs_below_match(const raft::RaftLog& x, const raft::RaftLog& y) {
  LogIndex lo = std::max(x.snapshot_index(), y.snapshot_index());
  bool matched = false;  // at or below the newest index where the terms agree
  for (LogIndex i = std::min(x.last_index(), y.last_index()); i >= lo && i > LogIndex{};
       i = i.prev()) {
    bool same_term = x.term_at(i) == y.term_at(i);
    matched = matched || same_term;
    const Entry* ex = x.entry(i);
    const Entry* ey = y.entry(i);
    if (matched && (!same_term || (ex && ey && *ex != *ey))) return i;
  }
  return std::nullopt;
}

}  // namespace

// State-machine safety (Raft §5.4.3), by entry: every server applies the same entry at an index.
void Simulation::check_entry(NodeId id, const Entry& e) {
  auto [it, fresh] = committed_.try_emplace(e.index, e.term, e.data);
  if (!fresh && (it->second.first != e.term || it->second.second != e.data)) {
    fail(fmt::format("state machine safety: n{} applied term {} at index {}, others term {}",
                     number(id), e.term.value, e.index.value, it->second.first.value));
  }
  if (!fresh) return;
  if (leader_crash_ && e.term > leader_crash_->second) {
    result_.counts.failover_ticks.push_back(now_ - leader_crash_->first);
    leader_crash_.reset();
  }
  if (e.type == raft::EntryType::kMembership && e.index > LogIndex{1}) {
    committed_memberships_.try_emplace(e.index, *raft::decode_membership(e.data));
    ++result_.counts.membership_changes;
    event(fmt::format("membership {} committed at index {}", e.data, e.index.value));
  }
}

// State-machine safety, by state: after index i every state machine holds the same registers,
// whether it applied the entries or loaded a snapshot (which stands for them).
void Simulation::check_state(NodeId id, LogIndex index, const std::string& state) {
  auto [it, fresh] = state_at_.try_emplace(index, state);
  if (!fresh && it->second != state) {
    fail(fmt::format("state machine safety: n{} after index {} holds {{{}}}, others {{{}}}",
                     number(id), index.value, state, it->second));
  }
}

void Simulation::check_snapshot(NodeId id, const raft::Snapshot& s) {
  if (auto it = committed_.find(s.index); it != committed_.end() && it->second.first != s.term) {
    fail(
        fmt::format("state machine safety: n{} has a snapshot of term {} at index {}, whose "
                    "entry is of term {}",
                    number(id), s.term.value, s.index.value, it->second.first.value));
  }
  check_state(id, s.index, s.data);
  committed_memberships_.try_emplace(s.index, s.membership);
}

void Simulation::check_leaders() {
  for (auto& [id, n] : nodes_) {
    if (!n.raft) continue;
    Role role = n.raft->role();
    bool campaigning = role == Role::kPreCandidate || role == Role::kCandidate;
    if (campaigning && !n.raft->membership().is_voter(id)) {
      fail(fmt::format("membership: n{} campaigns but is no voter in {}", number(id),
                       raft::encode(n.raft->membership())));
    }
    if (role == Role::kLeader && n.last_role != Role::kLeader) check_new_leader(id, *n.raft);
    n.last_role = role;
  }
}

void Simulation::check_new_leader(NodeId id, const raft::Raft& r) {
  std::uint64_t term = r.term().value;
  auto [it, fresh] = leader_of_term_.try_emplace(r.term(), id);
  if (!fresh && it->second != id) {  // election safety (§5.2)
    fail(fmt::format("election safety: n{} and n{} both lead term {}", number(it->second),
                     number(id), term));
  }
  if (!r.membership().is_voter(id)) {
    fail(fmt::format("membership: n{} leads term {} but is no voter in {}", number(id), term,
                     raft::encode(r.membership())));
  }
  ++result_.counts.elections;
  if (id == transfer_to_) {
    ++result_.counts.transfers_completed;
    transfer_to_ = NodeId::kNone;
  }
  event(fmt::format("n{} leads term {}", number(id), term));
  // Leader completeness (§5.4.1): it holds every committed entry after its snapshot, and the
  // entry at the snapshot's index (the snapshot's state was checked when it was taken).
  const raft::RaftLog& log = r.log();
  for (auto e = committed_.lower_bound(log.snapshot_index()); e != committed_.end(); ++e) {
    if (log.term_at(e->first) != e->second.first) {
      fail(fmt::format("leader completeness: n{} leads term {} without committed index {}",
                       number(id), term, e->first.value));
      return;
    }
  }
}

// Log matching (§5.3): two logs holding an entry of the same index and term hold the same
// entries up to it. Checked over the indexes both logs still hold.
void Simulation::check_log_matching() {
  for (auto a = nodes_.begin(); a != nodes_.end(); ++a) {
    for (auto b = std::next(a); b != nodes_.end(); ++b) {
      if (!a->second.raft || !b->second.raft) continue;
      std::optional<LogIndex> differ =
          differs_below_match(a->second.raft->log(), b->second.raft->log());
      if (differ) {
        fail(fmt::format("log matching: n{} and n{} differ at index {} below a common entry",
                         number(a->first), number(b->first), differ->value));
        return;
      }
    }
  }
}

LogIndex Simulation::highest_committed() const {
  return state_at_.empty() ? LogIndex{} : state_at_.rbegin()->first;
}

void Simulation::check_end() {
  for (const Client& c : clients_) {  // still waiting at the end: outcome unknown
    if (c.outstanding) record(*c.outstanding, std::nullopt, std::nullopt);
  }
  NodeId leader_id = leader();
  if (leader_id == NodeId::kNone) {
    fail("liveness: no leader after the network healed and every server restarted");
    return;
  }
  // No acknowledged write lost: the leader holds each one's entry, or a snapshot past it.
  const raft::RaftLog& log = nodes_.at(leader_id).raft->log();
  for (const auto& [op, at] : acked_writes_) {
    if (at.first > log.snapshot_index() && log.term_at(at.first) != at.second) {
      fail(fmt::format("acknowledged write {} (index {}, term {}) was lost by leader n{}", op,
                       at.first.value, at.second.value, number(leader_id)));
    }
  }
  check_log_matching();
  auto verdict = check::check_linearizable(history_);
  if (!verdict.is_ok()) {
    fail("linearizability checker refused the history: " + verdict.status().message());
  } else if (verdict->verdict == check::Verdict::kNotLinearizable) {
    fail(fmt::format("linearizability: key {} is not linearizable:\n{}", verdict->key,
                     verdict->explanation));
  }
}

}  // namespace spofless::sim
