// Membership changes under faults, and what they mean for the simulation's own policies:
// which servers may crash, and when a removed server may come back with an empty disk.

#include <algorithm>

#include <fmt/format.h>

#include "sim/simulation.h"

namespace spofless::sim {

namespace {

std::string_view to_string(raft::ConfChange::Kind kind) {
  switch (kind) {
    case raft::ConfChange::Kind::kAddLearner:
      return "add learner";
    case raft::ConfChange::Kind::kAddVoter:
      return "promote learner";
    case raft::ConfChange::Kind::kRemove:
      return "remove";
  }
  return "unknown";
}

// The membership a restarted server would read back from `disk`.
std::optional<Membership> disk_membership(const raft::PersistentState& disk) {
  for (auto e = disk.entries.rbegin(); e != disk.entries.rend(); ++e) {
    if (e->type == raft::EntryType::kMembership) return raft::decode_membership(e->data);
  }
  if (disk.snapshot.index == LogIndex{}) return std::nullopt;
  return disk.snapshot.membership;
}

}  // namespace

// The leader proposes one change chosen at random among those that make sense for its
// membership: add a non-member as a learner, promote a learner, or, while there are more
// voters than the cluster started with, remove a voter (the leader itself included). Raft
// refuses some (a change still uncommitted, a learner that lags): that is part of the test.
void Simulation::change_membership() {
  NodeId leader_id = leader();
  if (leader_id == NodeId::kNone) return;
  raft::Raft& r = *nodes_.at(leader_id).raft;
  Membership now = r.membership();
  using Kind = raft::ConfChange::Kind;
  std::vector<raft::ConfChange> changes;
  for (NodeId id : servers_) {
    if (!now.is_member(id)) changes.push_back({Kind::kAddLearner, id});
  }
  for (NodeId id : now.learners) changes.push_back({Kind::kAddVoter, id});
  if (now.voters.size() > o_.nodes) {
    for (NodeId id : now.voters) changes.push_back({Kind::kRemove, id});
  }
  if (changes.empty()) return;
  raft::ConfChange change = changes[random_.uniform(0, changes.size() - 1)];
  // A deposed leader that missed its own removal may offer to add itself back: it is running
  // (and proposing), so it is neither replaced nor restarted.
  if (change.kind == Kind::kAddLearner && change.node != leader_id) {
    Node& n = nodes_.at(change.node);
    if (chance(o_.reset_removed) && n.disk.hard_state.term > Term{} &&
        !listed_anywhere(change.node)) {
      reset(change.node);  // a replacement server: same id, nothing on disk
    } else if (n.retired) {
      n.retired = false;
      start(change.node);
      event(fmt::format("restart n{} to add it again", number(change.node)));
    }
  }
  Result<LogIndex> index = r.propose_membership(change);
  if (!index.is_ok()) {
    event(fmt::format("n{} refuses to {} n{}: {}", number(leader_id), to_string(change.kind),
                      number(change.node), index.status().message()));
    return;
  }
  proposed_memberships_[*index] = raft::apply(now, change);
  event(fmt::format("n{} proposes to {} n{} at index {}", number(leader_id), to_string(change.kind),
                    number(change.node), index->value));
}

// Replaces a removed server with a fresh one of the same id. Messages of the old one still on
// the wire go with it: a stale acknowledgement would credit the new server with entries it
// never had, which no real replacement (a new process, new connections) would see.
void Simulation::reset(NodeId id) {
  Node& n = nodes_.at(id);
  n.disk = {};
  n.bootstraps = false;
  n.retired = false;
  n.log_lost = false;  // a new disk lost nothing
  std::erase_if(wire_,
                [&](const auto& item) { return item.second.from == id || item.second.to == id; });
  start(id);
  ++result_.counts.resets;
  event(fmt::format("n{} is replaced by a fresh server with an empty disk", number(id)));
}

// Without pre-vote and check-quorum nothing stops a removed server that missed its removal
// from campaigning with ever higher terms and deposing leader after leader (thesis §4.2.3):
// such a server is shut down, as an operator would, until it is added again. With either, it
// keeps running, and the checkers hold Raft to not being disrupted by it.
void Simulation::retire_disruptive_servers() {
  if (!o_.membership_changes || o_.pre_vote || o_.check_quorum) return;
  for (auto& [id, n] : nodes_) {
    if (!n.raft || !n.raft->membership().is_voter(id) || listed_in_play(id)) continue;
    event(fmt::format("n{} missed its removal and still campaigns: shut down", number(id)));
    n.raft.reset();
    n.pending.reset();
    n.retired = true;
  }
}

const Membership& Simulation::committed_membership() const {
  return committed_memberships_.rbegin()->second;
}

// The committed membership, and every proposed one that may still commit (its index is past
// everything known committed): those a majority of which must stay up.
std::vector<Membership> Simulation::memberships_in_play() const {
  std::vector<Membership> out{committed_membership()};
  for (auto it = proposed_memberships_.upper_bound(highest_committed());
       it != proposed_memberships_.end(); ++it) {
    out.push_back(it->second);
  }
  return out;
}

bool Simulation::listed_in_play(NodeId id) const {
  std::vector<Membership> in_play = memberships_in_play();
  return std::any_of(in_play.begin(), in_play.end(),
                     [&](const Membership& m) { return m.is_member(id); });
}

bool Simulation::majorities_survive_crash(NodeId victim) const {
  for (const Membership& m : memberships_in_play()) {
    std::size_t up = 0;
    for (NodeId id : m.voters) up += id != victim && nodes_.at(id).raft ? 1 : 0;
    if (up < m.quorum()) return false;
  }
  return true;
}

// Whether any membership that may be in force somewhere — committed, proposed, in a server's
// memory or on its disk, or in an entry or snapshot on the wire — lists `id`. Only a server
// listed nowhere may lose its disk: its forgotten vote could otherwise elect a stale server
// that still counts it as a voter.
bool Simulation::listed_anywhere(NodeId id) const {
  if (listed_in_play(id)) return true;
  for (const auto& [other, n] : nodes_) {
    if (other == id) continue;
    if (n.raft && n.raft->membership().is_member(id)) return true;
    std::optional<Membership> on_disk = disk_membership(n.disk);
    if (on_disk && on_disk->is_member(id)) return true;
    bool bootstraps_on_restart = !on_disk && n.bootstraps;
    if (bootstraps_on_restart && number(id) <= o_.nodes) return true;
  }
  for (const auto& [key, m] : wire_) {
    if (m.snapshot && m.snapshot->membership.is_member(id)) return true;
    for (const Entry& e : m.entries) {
      if (e.type != raft::EntryType::kMembership) continue;
      if (raft::decode_membership(e.data)->is_member(id)) return true;
    }
  }
  return false;
}

}  // namespace spofless::sim
