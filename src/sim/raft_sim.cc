#include "sim/raft_sim.h"

#include <algorithm>

#include <fmt/format.h>

#include "raft/memory_storage.h"
#include "sim/simulation.h"

namespace spofless::sim {

namespace {

constexpr std::size_t kTraceEvents = 200;

}  // namespace

RaftSimCounts& RaftSimCounts::operator+=(const RaftSimCounts& other) {
  elections += other.elections;
  crashes += other.crashes;
  log_losses += other.log_losses;
  resyncs += other.resyncs;
  partitions += other.partitions;
  transfers += other.transfers;
  transfers_completed += other.transfers_completed;
  ops_ok += other.ops_ok;
  ops_unknown += other.ops_unknown;
  reads_ok += other.reads_ok;
  membership_changes += other.membership_changes;
  resets += other.resets;
  snapshots_installed += other.snapshots_installed;
  compactions += other.compactions;
  failover_ticks.insert(failover_ticks.end(), other.failover_ticks.begin(),
                        other.failover_ticks.end());
  return *this;
}

std::string to_string(const RaftSimCounts& c) {
  std::vector<std::uint64_t> failovers = c.failover_ticks;
  auto median = failovers.begin() + static_cast<std::ptrdiff_t>(failovers.size() / 2);
  if (!failovers.empty()) std::nth_element(failovers.begin(), median, failovers.end());
  return fmt::format(
      "{} elections, {} crashes ({} losing log entries, {} re-synced), {} partitions, {} "
      "leadership transfers ({} completed), {} ops "
      "acknowledged ({} reads), {} unknown; {} membership changes committed, {} servers "
      "replaced; {} compactions, {} snapshots installed; leader failovers {} (median {} ticks "
      "to the next commit)",
      c.elections, c.crashes, c.log_losses, c.resyncs, c.partitions, c.transfers,
      c.transfers_completed, c.ops_ok, c.reads_ok, c.ops_unknown, c.membership_changes, c.resets,
      c.compactions, c.snapshots_installed, failovers.size(), failovers.empty() ? 0 : *median);
}

std::string serialize(const Kv& kv) {
  std::string out;
  for (const auto& [key, value] : kv) out += fmt::format("{}={}\n", key, value);
  return out;
}

Kv deserialize(const std::string& data) {
  Kv kv;
  for (std::size_t at = 0; at < data.size();) {
    std::size_t eq = data.find('=', at);
    std::size_t end = data.find('\n', eq);
    kv[data.substr(at, eq - at)] = data.substr(eq + 1, end - eq - 1);
    at = end + 1;
  }
  return kv;
}

std::string encode_write(const Op& op) { return fmt::format("{}|{}|{}", op.id, op.key, op.value); }

Write decode_write(const std::string& data) {
  std::size_t a = data.find('|');
  std::size_t b = data.find('|', a + 1);
  return Write{std::stoull(data.substr(0, a)), data.substr(a + 1, b - a - 1), data.substr(b + 1)};
}

Simulation::Simulation(const RaftSimOptions& o)
    : o_(o), random_(o.seed), loss_random_(o.seed * 104729 + 1) {
  for (std::uint64_t i = 1; i <= o.nodes; ++i) first_voters_.push_back(NodeId{i});
  servers_ = first_voters_;
  if (o.membership_changes) servers_.push_back(NodeId{o.nodes + 1});  // the spare: joins later
  committed_memberships_[LogIndex{1}] =
      Membership{{first_voters_.begin(), first_voters_.end()}, {}};
  for (NodeId id : servers_) {
    node_random_[id] = std::make_unique<SeededRandom>(o.seed * 7919 + number(id));
    nodes_[id].bootstraps = number(id) <= o.nodes;
    start(id);
  }
  clients_.resize(o.clients);
}

void Simulation::event(std::string text) {
  trace_.push_back(fmt::format("t={} {}", now_, text));
  if (trace_.size() > kTraceEvents) trace_.pop_front();
}

void Simulation::fail(std::string why) {
  if (result_.ok) {
    result_.ok = false;
    result_.failure = std::move(why);
  }
}

void Simulation::start(NodeId id) {
  Node& n = nodes_[id];
  raft::Config config;
  config.id = id;
  if (n.bootstraps) config.voters = first_voters_;
  config.pre_vote = o_.pre_vote;
  config.check_quorum = o_.check_quorum;
  config.read_mode = o_.read_mode;
  config.testing_grant_stale_votes = o_.plant_bug;
  config.log_lost = n.log_lost;
  n.raft = std::make_unique<raft::Raft>(config, n.disk, *node_random_.at(id));
  n.pending.reset();
  n.kv = deserialize(n.disk.snapshot.data);
  n.applied = n.disk.snapshot.index;
  n.last_role = Role::kFollower;
  n.reads_asked.clear();
  n.reads_confirmed.clear();
}

void Simulation::crash(NodeId id) {
  Node& n = nodes_.at(id);
  if (n.raft->role() == Role::kLeader) leader_crash_ = {{now_, n.raft->term()}};
  event(fmt::format("crash n{} ({} at term {}; unpersisted work lost)", number(id),
                    raft::to_string(n.raft->role()), n.raft->term().value));
  n.raft.reset();
  n.pending.reset();
  n.restart_at = now_ + random_.uniform(10, 60);
  ++result_.counts.crashes;
  maybe_lose_log(id);
}

// The disk loses every entry after a random one (the snapshot, a separate file, survives), as a
// corrupt record in the middle of the write-ahead log would; the server will restart knowing.
void Simulation::maybe_lose_log(NodeId id) {
  Node& n = nodes_.at(id);
  if (loss_random_.uniform(0, 999'999) >= o_.log_loss * 1'000'000 || n.disk.entries.empty()) {
    return;
  }
  for (const auto& [other, node] : nodes_) {
    if (node.log_lost) return;
  }
  LogIndex first = n.disk.entries.front().index;
  LogIndex keep{loss_random_.uniform(first.value - 1, n.disk.entries.back().index.value - 1)};
  std::erase_if(n.disk.entries, [&](const Entry& e) { return e.index > keep; });
  n.log_lost = true;
  ++result_.counts.log_losses;
  event(fmt::format("n{}'s disk loses its log after index {}", number(id), keep.value));
}

void Simulation::inject_faults() {
  if (!cut_.empty() && now_ >= heal_at_) {
    cut_.clear();
    event("network healed");
  }
  if (cut_.empty() && chance(o_.partition_per_tick)) {
    NodeId victim = servers_[random_.uniform(0, servers_.size() - 1)];
    bool one_way = chance(0.3);
    for (NodeId other : servers_) {
      if (other == victim) continue;
      cut_.insert({victim, other});
      if (!one_way) cut_.insert({other, victim});
    }
    heal_at_ = now_ + random_.uniform(20, 120);
    event(fmt::format("partition: n{} cut off{}", number(victim),
                      one_way ? " (its messages out are lost, it still hears)" : ""));
    ++result_.counts.partitions;
  }
  if (chance(o_.transfer_per_tick)) transfer_leadership();
  if (o_.membership_changes && chance(o_.membership_change_per_tick)) change_membership();
  // Crash only while a majority of every membership that may be in force stays up, so that
  // the cluster can make progress between faults.
  if (chance(o_.crash_per_tick)) {
    NodeId victim = servers_[random_.uniform(0, servers_.size() - 1)];
    if (nodes_.at(victim).raft && majorities_survive_crash(victim)) crash(victim);
  }
}

void Simulation::transfer_leadership() {
  NodeId from = leader();
  if (from == NodeId::kNone) return;
  raft::Raft& r = *nodes_.at(from).raft;
  std::vector<NodeId> voters(r.membership().voters.begin(), r.membership().voters.end());
  NodeId to = voters[random_.uniform(0, voters.size() - 1)];
  if (to == from || !r.transfer_leadership(to).is_ok()) return;
  transfer_to_ = to;
  ++result_.counts.transfers;
  event(fmt::format("n{} transfers leadership to n{}", number(from), number(to)));
}

NodeId Simulation::leader() const {
  NodeId newest = NodeId::kNone;
  Term term;
  for (const auto& [id, n] : nodes_) {
    if (n.raft && n.raft->role() == Role::kLeader && n.raft->term() >= term) {
      newest = id;
      term = n.raft->term();
    }
  }
  return newest;
}

void Simulation::send(const Message& m) {
  if (chance(o_.drop)) return;
  int copies = chance(o_.duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    std::uint64_t at = now_ + random_.uniform(1, o_.max_delay_ticks);  // reorders too
    wire_.emplace(std::make_pair(at, seq_++), m);
  }
}

void Simulation::deliver() {
  while (!wire_.empty() && wire_.begin()->first.first <= now_) {
    auto item = wire_.extract(wire_.begin());
    const Message& m = item.mapped();
    Node& to = nodes_.at(m.to);
    if (!to.raft || cut_.count({m.from, m.to})) continue;
    to.raft->step(m);
  }
}

// One Ready, as a server does it: the leader's appends go out at once, the rest once the disk
// write (which takes a few ticks) is done; a crash before then loses the Ready.
void Simulation::process(NodeId id) {
  Node& n = nodes_.at(id);
  if (!n.raft) return;
  if (!n.pending && n.raft->has_ready()) {
    n.pending = n.raft->ready();
    for (const Message& m : n.pending->messages) send(m);
    n.persist_at = now_ + random_.uniform(0, o_.max_disk_ticks);
  }
  if (!n.pending || now_ < n.persist_at) return;
  Ready rd = std::move(*n.pending);
  n.pending.reset();
  raft::persist(n.disk, rd);
  for (const Message& m : rd.messages_after_persist) send(m);
  if (rd.snapshot) install_snapshot(id, *rd.snapshot);
  for (const Entry& e : rd.committed) apply(id, e);
  take_read_states(id, rd.read_states);
  n.raft->advance(rd);
  if (n.log_lost && !n.raft->log_lost()) {  // the server drops its marker
    n.log_lost = false;
    ++result_.counts.resyncs;
    event(fmt::format("n{} re-synced its lost log", number(id)));
  }
  serve_reads(id);
  maybe_compact(id);
}

void Simulation::install_snapshot(NodeId id, const raft::Snapshot& s) {
  Node& n = nodes_.at(id);
  n.kv = deserialize(s.data);
  n.applied = s.index;
  ++result_.counts.snapshots_installed;
  event(fmt::format("n{} installs a snapshot at index {} (term {})", number(id), s.index.value,
                    s.term.value));
  check_snapshot(id, s);
}

void Simulation::apply(NodeId id, const Entry& e) {
  Node& n = nodes_.at(id);
  if (e.index != n.applied.next()) {
    fail(fmt::format("apply order: n{} applies index {} after {}", number(id), e.index.value,
                     n.applied.value));
  }
  check_entry(id, e);
  n.applied = e.index;
  if (e.type == raft::EntryType::kNormal) {
    Write w = decode_write(e.data);
    n.kv[w.key] = w.value;
    for (Client& c : clients_) {
      if (c.outstanding && c.outstanding->id == w.id && c.outstanding->node == id) {
        acked_writes_[w.id] = {e.index, e.term};
        finish_op(c, std::nullopt);
      }
    }
  }
  check_state(id, e.index, serialize(n.kv));
}

// Compacts once enough applied entries follow the snapshot: small logs, so that lagging and
// restarted followers often need InstallSnapshot.
void Simulation::maybe_compact(NodeId id) {
  Node& n = nodes_.at(id);
  const raft::RaftLog& log = n.raft->log();
  // Raft compacts only what it knows applied and durable. Its applied index runs ahead of the
  // state machine's while a snapshot it restored from the leader waits in an unprocessed Ready;
  // the leader may apply entries a majority of followers made durable before its own disk has.
  if (n.applied != log.applied() || n.applied > log.stable()) return;
  if (n.applied.value - n.raft->snapshot().index.value <= o_.compact_after_entries) return;
  if (Status s = n.raft->compact(n.applied, serialize(n.kv)); !s.is_ok()) {
    fail(fmt::format("n{} refused to compact at applied index {}: {}", number(id), n.applied.value,
                     s.message()));
    return;
  }
  raft::persist_compaction(n.disk, n.raft->snapshot());
  check_snapshot(id, n.raft->snapshot());
  ++result_.counts.compactions;
  event(fmt::format("n{} compacts its log up to index {}", number(id), n.applied.value));
}

std::string Simulation::describe(NodeId id) const {
  const Node& n = nodes_.at(id);
  if (!n.raft) return "crashed";
  const raft::RaftLog& log = n.raft->log();
  std::string out = fmt::format(
      "{} term {} snapshot {} last {} stable {} commit {} applied {} ({}){}",
      raft::to_string(n.raft->role()), n.raft->term().value, log.snapshot_index().value,
      log.last_index().value, log.stable().value, log.committed().value, n.applied.value,
      raft::encode(n.raft->membership()), n.raft->log_lost() ? " log lost" : "");
  for (const raft::FollowerProgress& p : n.raft->progress()) {
    out += fmt::format("; n{} match {} {} quiet {}", number(p.id), p.match.value,
                       p.replicating ? "replicating" : "probing", p.ticks_since_contact);
  }
  return out;
}

RaftSimResult Simulation::run() {
  constexpr std::uint64_t kLogMatchingEveryTicks = 20;
  std::uint64_t end = o_.chaos_ticks + o_.calm_ticks;
  for (now_ = 1; now_ <= end && result_.ok; ++now_) {
    bool calm = now_ > o_.chaos_ticks;
    if (!calm) {
      inject_faults();
    } else if (now_ == o_.chaos_ticks + 1) {
      cut_.clear();
      event("calm: network healed, crashed servers restart");
    }
    retire_disruptive_servers();
    for (auto& [id, n] : nodes_) {
      if (!n.raft && !n.retired && (calm || now_ >= n.restart_at)) {
        start(id);
        event(fmt::format("restart n{}", number(id)));
      }
    }
    for (auto& [id, n] : nodes_) {
      if (n.raft) n.raft->tick();
    }
    deliver();
    for (NodeId id : servers_) process(id);
    check_leaders();
    if (now_ % kLogMatchingEveryTicks == 0) check_log_matching();
    run_clients(calm);
  }
  if (result_.ok) check_end();
  result_.trace.assign(trace_.begin(), trace_.end());
  return result_;
}

RaftSimResult run_raft_sim(const RaftSimOptions& options) { return Simulation(options).run(); }

}  // namespace spofless::sim
