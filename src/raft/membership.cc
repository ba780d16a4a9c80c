// Membership changes one server at a time (Raft thesis §4.1) and log compaction with
// snapshots (thesis chapter 5).
//
// A membership takes effect on a server as soon as its entry is in the server's log, committed
// or not; a truncation that removes the entry reverts to the membership before it. Any two
// majorities of memberships that differ by one server overlap, so no two leaders can be
// elected in one term across a change. Two rules keep that true under leader changes: one
// change at a time (the next waits until the last is committed), and none before the leader
// has committed an entry of its own term (the flaw in the original algorithm that Ongaro
// reported in 2015: otherwise an uncommitted change from a deposed leader and a new leader's
// change can each form a majority without the other).

#include <charconv>

#include <fmt/format.h>

#include "core/check.h"
#include "raft/raft.h"

namespace spofless::raft {

namespace {

std::string join(const std::set<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(static_cast<std::uint64_t>(id));
  }
  return out;
}

// Parses "1,2,3" (or "") into `ids`; false on anything else.
bool parse_ids(std::string_view text, std::set<NodeId>& ids) {
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size() || value == 0) return false;
    if (!ids.insert(NodeId{value}).second) return false;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return false;  // a trailing comma
  }
  return true;
}

std::uint64_t u(NodeId id) { return static_cast<std::uint64_t>(id); }

}  // namespace

std::string encode(const Membership& m) {
  return fmt::format("voters={} learners={}", join(m.voters), join(m.learners));
}

std::optional<Membership> decode_membership(std::string_view data) {
  constexpr std::string_view kVoters = "voters=";
  constexpr std::string_view kLearners = " learners=";
  std::size_t split = data.find(kLearners);
  if (!data.starts_with(kVoters) || split == std::string_view::npos) return std::nullopt;
  Membership m;
  if (!parse_ids(data.substr(kVoters.size(), split - kVoters.size()), m.voters) ||
      !parse_ids(data.substr(split + kLearners.size()), m.learners)) {
    return std::nullopt;
  }
  for (NodeId id : m.voters) {
    if (m.learners.count(id)) return std::nullopt;
  }
  return m;
}

Membership apply(Membership m, const ConfChange& change) {
  switch (change.kind) {
    case ConfChange::Kind::kAddLearner:
      m.learners.insert(change.node);
      break;
    case ConfChange::Kind::kAddVoter:
      m.learners.erase(change.node);
      m.voters.insert(change.node);
      break;
    case ConfChange::Kind::kRemove:
      m.voters.erase(change.node);
      m.learners.erase(change.node);
      break;
  }
  return m;
}

// --- Membership ---

LogIndex Raft::membership_index() const {
  return membership_entries_.empty() ? snapshot_.index : membership_entries_.rbegin()->first;
}

void Raft::load_membership() {
  membership_entries_.clear();
  for (LogIndex i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
    note_membership(*log_.entry(i));
  }
  use_newest_membership();
}

void Raft::after_place(const std::vector<Entry>& placed) {
  // Entries a truncation removed take their memberships with them.
  std::erase_if(membership_entries_, [&](const auto& item) {
    const Entry* e = log_.entry(item.first);
    return e == nullptr || e->type != EntryType::kMembership;
  });
  for (const Entry& e : placed) note_membership(e);
  use_newest_membership();
}

void Raft::note_membership(const Entry& e) {
  if (e.type != EntryType::kMembership) return;
  std::optional<Membership> m = decode_membership(e.data);
  SPOFLESS_CHECK(m.has_value(), "a membership entry decodes");
  membership_entries_[e.index] = std::move(*m);
}

void Raft::use_newest_membership() {
  set_membership(membership_entries_.empty() ? snapshot_.membership
                                             : membership_entries_.rbegin()->second);
}

void Raft::set_membership(const Membership& m) {
  membership_ = m;
  if (role_ != Role::kLeader) return;
  std::erase_if(progress_, [&](const auto& item) { return !m.is_member(item.first); });
  if (transferee_ != NodeId::kNone && !m.is_voter(transferee_)) transferee_ = NodeId::kNone;
  auto add = [&](NodeId id) {
    if (id == config_.id || progress_.count(id)) return;
    Progress pr(log_.last_index().next(), config_.max_inflight_appends);
    pr.recent_active = true;  // give it one election timeout to answer
    pr.last_contact_tick = ticks_;
    progress_.emplace(id, pr);
  };
  for (NodeId id : m.voters) add(id);
  for (NodeId id : m.learners) add(id);
}

Status Raft::validate(const ConfChange& change) const {
  std::uint64_t node = u(change.node);
  if (change.node == NodeId::kNone) return invalid_argument("server id 0 is reserved");
  switch (change.kind) {
    case ConfChange::Kind::kAddLearner:
      if (membership_.is_member(change.node)) {
        return invalid_argument(fmt::format("server {} is already a member", node));
      }
      return Status::ok();
    case ConfChange::Kind::kAddVoter:
      if (membership_.is_voter(change.node)) {
        return invalid_argument(fmt::format("server {} is already a voter", node));
      }
      if (!membership_.is_learner(change.node)) {
        // Straight to voter would count an empty log in every majority until it caught up.
        return invalid_argument(
            fmt::format("server {} must join as a learner and catch up first", node));
      }
      if (membership_.voters.size() >= limits::kRaftMaxVoters) {
        return invalid_argument(
            fmt::format("a cluster has at most {} voters", limits::kRaftMaxVoters));
      }
      // A learner whose match is below the snapshot still needs the snapshot, however few
      // entries the log holds after it: it is not caught up.
      if (const Progress& pr = progress_.at(change.node);
          log_.last_index().value - pr.match().value > config_.max_entries_per_append ||
          pr.match() < log_.snapshot_index()) {
        return unavailable(fmt::format("learner {} is {} entries behind; promote it once caught up",
                                       node, log_.last_index().value - pr.match().value));
      }
      return Status::ok();
    case ConfChange::Kind::kRemove:
      if (!membership_.is_member(change.node)) {
        return invalid_argument(fmt::format("server {} is not a member", node));
      }
      if (membership_.voters.size() == 1 && membership_.is_voter(change.node)) {
        return invalid_argument("the last voter cannot be removed");
      }
      return Status::ok();
  }
  return invalid_argument("unknown membership change");
}

Result<LogIndex> Raft::propose_membership(ConfChange change) {
  if (Status s = can_propose(); !s.is_ok()) return s;
  if (membership_index() > log_.committed()) {
    return unavailable(fmt::format("the membership change at index {} is not committed yet",
                                   membership_index().value));
  }
  if (!committed_in_term()) {
    return unavailable("the leader has not committed an entry of its term yet");
  }
  if (Status valid = validate(change); !valid.is_ok()) return valid;
  Entry entry{term_, log_.last_index().next(), EntryType::kMembership,
              encode(apply(membership_, change))};
  log_.append({entry});
  note_membership(entry);
  use_newest_membership();
  broadcast_append();
  if (maybe_commit()) on_commit();  // a change that leaves fewer voters may have its majority
  return entry.index;
}

// --- Snapshots ---

Status Raft::compact(LogIndex index, std::string data) {
  if (index <= log_.snapshot_index()) {
    return invalid_argument(
        fmt::format("the log is already compacted up to {}", log_.snapshot_index().value));
  }
  if (index > log_.applied() || index > log_.stable()) {
    return invalid_argument(fmt::format("index {} is not applied yet (applied {})", index.value,
                                        log_.applied().value));
  }
  Snapshot s{index, *log_.term_at(index), snapshot_.membership, std::move(data)};
  if (auto it = membership_entries_.upper_bound(index); it != membership_entries_.begin()) {
    s.membership = std::prev(it)->second;
  }
  log_.compact_to(index);
  std::erase_if(membership_entries_, [&](const auto& item) { return item.first <= index; });
  snapshot_ = std::move(s);
  return Status::ok();
}

void Raft::restore(const Snapshot& snapshot) {
  log_.restore(snapshot.index, snapshot.term);
  snapshot_ = snapshot;
  snapshot_unpersisted_ = true;
  membership_entries_.clear();
  use_newest_membership();  // the snapshot's
}

}  // namespace spofless::raft
