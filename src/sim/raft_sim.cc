#include "sim/raft_sim.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "check/linearizability.h"
#include "core/random.h"
#include "raft/memory_storage.h"
#include "raft/raft.h"

namespace spofless::sim {
namespace {

using raft::Entry;
using raft::LogIndex;
using raft::Message;
using raft::NodeId;
using raft::Ready;
using raft::Role;
using raft::Term;

constexpr std::size_t kTraceEvents = 200;

// A client operation travels through the log as "<op id>|<w or r>|<key>|<value>".
struct Op {
  std::uint64_t id = 0;
  std::size_t client = 0;
  check::OpKind kind = check::OpKind::kRead;
  std::string key;
  std::string value;
  NodeId node = NodeId::kNone;  // where it was proposed; that node answers
  std::int64_t call = 0;
};

std::string encode(const Op& op) {
  return fmt::format("{}|{}|{}|{}", op.id, op.kind == check::OpKind::kWrite ? 'w' : 'r', op.key,
                     op.value);
}

struct Decoded {
  std::uint64_t id = 0;
  bool write = false;
  std::string key;
  std::string value;
};

Decoded decode(const std::string& data) {
  Decoded d;
  std::size_t a = data.find('|');
  std::size_t b = data.find('|', a + 1);
  std::size_t c = data.find('|', b + 1);
  d.id = std::stoull(data.substr(0, a));
  d.write = data[a + 1] == 'w';
  d.key = data.substr(b + 1, c - b - 1);
  d.value = data.substr(c + 1);
  return d;
}

struct Node {
  std::unique_ptr<raft::Raft> raft;  // null while crashed
  raft::PersistentState disk;
  std::optional<Ready> pending;  // handed out, not yet persisted
  std::uint64_t persist_at = 0;
  std::uint64_t restart_at = 0;
  std::map<std::string, std::string> kv;  // the state machine
  Role last_role = Role::kFollower;
};

struct Client {
  std::optional<Op> outstanding;
  std::uint64_t next_at = 0;
  std::uint64_t sequence = 0;
};

class Simulation {
 public:
  explicit Simulation(const RaftSimOptions& o) : o_(o), random_(o.seed) {
    for (std::uint64_t i = 1; i <= o.nodes; ++i) voters_.push_back(NodeId{i});
    for (NodeId id : voters_) {
      node_random_[id] =
          std::make_unique<SeededRandom>(o.seed * 7919 + static_cast<std::uint64_t>(id));
      start(id);
    }
    clients_.resize(o.clients);
  }

  RaftSimResult run();

 private:
  bool chance(double p) { return random_.uniform(0, 999'999) < p * 1'000'000; }
  void event(std::string text) {
    trace_.push_back(fmt::format("t={} {}", now_, text));
    if (trace_.size() > kTraceEvents) trace_.pop_front();
  }
  void fail(std::string why) {
    if (result_.ok) {
      result_.ok = false;
      result_.failure = std::move(why);
    }
  }

  void start(NodeId id);
  void crash(NodeId id);
  void inject_faults();
  void deliver();
  void send(const Message& m);
  void process(NodeId id);
  void apply(NodeId id, const Entry& e);
  void check_leaders();
  void run_clients(bool calm);
  void finish_op(Client& c, std::optional<std::string> read_value);
  void record(const Op& op, std::optional<std::int64_t> returned,
              std::optional<std::string> read_value);
  void check_end();
  std::string describe(NodeId id) const;

  const RaftSimOptions o_;
  SeededRandom random_;
  std::vector<NodeId> voters_;
  std::map<NodeId, std::unique_ptr<SeededRandom>> node_random_;
  std::map<NodeId, Node> nodes_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Message> wire_;  // (deliver at, seq)
  std::uint64_t seq_ = 0;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::uint64_t heal_at_ = 0;
  std::uint64_t now_ = 0;
  std::vector<Client> clients_;
  std::uint64_t next_op_id_ = 1;
  std::vector<check::Operation> history_;
  std::set<std::uint64_t> acked_writes_;
  std::map<std::uint64_t, std::pair<Term, std::string>> committed_;  // index -> entry
  std::set<std::uint64_t> applied_ops_;
  std::map<std::uint64_t, NodeId> leader_of_term_;
  std::optional<std::pair<std::uint64_t, Term>> leader_crash_;  // (tick, term) awaiting failover
  NodeId transfer_to_ = NodeId::kNone;  // the target of the last transfer, until it leads
  std::deque<std::string> trace_;
  RaftSimResult result_;
};

void Simulation::start(NodeId id) {
  Node& n = nodes_[id];
  raft::Config config;
  config.id = id;
  config.voters = voters_;
  config.pre_vote = o_.pre_vote;
  config.check_quorum = o_.check_quorum;
  config.testing_grant_stale_votes = o_.plant_bug;
  n.raft = std::make_unique<raft::Raft>(config, n.disk, *node_random_.at(id));
  n.pending.reset();
  n.kv.clear();
  n.last_role = Role::kFollower;
}

void Simulation::crash(NodeId id) {
  Node& n = nodes_.at(id);
  if (n.raft->role() == Role::kLeader) leader_crash_ = {{now_, n.raft->term()}};
  event(fmt::format("crash n{} ({} at term {}; unpersisted work lost)",
                    static_cast<std::uint64_t>(id), raft::to_string(n.raft->role()),
                    n.raft->term().value));
  n.raft.reset();
  n.pending.reset();
  n.restart_at = now_ + random_.uniform(10, 60);
  ++result_.crashes;
}

void Simulation::inject_faults() {
  if (!cut_.empty() && now_ >= heal_at_) {
    cut_.clear();
    event("network healed");
  }
  if (cut_.empty() && chance(o_.partition_per_tick)) {
    NodeId victim = voters_[random_.uniform(0, voters_.size() - 1)];
    bool one_way = chance(0.3);
    for (NodeId other : voters_) {
      if (other == victim) continue;
      cut_.insert({victim, other});
      if (!one_way) cut_.insert({other, victim});
    }
    heal_at_ = now_ + random_.uniform(20, 120);
    event(fmt::format("partition: n{} cut off{}", static_cast<std::uint64_t>(victim),
                      one_way ? " (its messages out are lost, it still hears)" : ""));
    ++result_.partitions;
  }
  if (chance(o_.transfer_per_tick)) {
    for (auto& [id, n] : nodes_) {
      if (!n.raft || n.raft->role() != Role::kLeader) continue;
      NodeId to = voters_[random_.uniform(0, voters_.size() - 1)];
      if (to == id || !n.raft->transfer_leadership(to).is_ok()) break;
      transfer_to_ = to;
      ++result_.transfers;
      event(fmt::format("n{} transfers leadership to n{}", static_cast<std::uint64_t>(id),
                        static_cast<std::uint64_t>(to)));
      break;
    }
  }
  std::size_t down = 0;
  for (auto& [id, n] : nodes_) down += n.raft ? 0 : 1;
  // Crash at most a minority, so that a majority can make progress between faults.
  if (down < (o_.nodes - 1) / 2 && chance(o_.crash_per_tick)) {
    NodeId victim = voters_[random_.uniform(0, voters_.size() - 1)];
    if (nodes_.at(victim).raft) crash(victim);
  }
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
    Message m = wire_.begin()->second;
    wire_.erase(wire_.begin());
    Node& to = nodes_.at(m.to);
    if (!to.raft || cut_.count({m.from, m.to})) continue;
    to.raft->step(m);
  }
}

void Simulation::process(NodeId id) {
  Node& n = nodes_.at(id);
  if (!n.raft) return;
  if (!n.pending && n.raft->has_ready()) {
    n.pending = n.raft->ready();
    for (const Message& m : n.pending->messages) send(m);  // leader appends: not waiting
    n.persist_at = now_ + random_.uniform(0, o_.max_disk_ticks);
  }
  if (!n.pending || now_ < n.persist_at) return;
  Ready rd = std::move(*n.pending);
  n.pending.reset();
  raft::persist(n.disk, rd);
  for (const Message& m : rd.messages_after_persist) send(m);
  for (const Entry& e : rd.committed) apply(id, e);
  n.raft->advance(rd);
}

void Simulation::apply(NodeId id, const Entry& e) {
  // State-machine safety: every server applies the same entry at the same index.
  auto [it, fresh] = committed_.try_emplace(e.index.value, e.term, e.data);
  if (!fresh && (it->second.first != e.term || it->second.second != e.data)) {
    fail(fmt::format("state machine safety: n{} applied term {} at index {}, others term {}",
                     static_cast<std::uint64_t>(id), e.term.value, e.index.value,
                     it->second.first.value));
  }
  if (fresh && leader_crash_ && e.term > leader_crash_->second) {
    result_.failover_ticks.push_back(now_ - leader_crash_->first);
    leader_crash_.reset();
  }
  if (e.type != raft::EntryType::kNormal) return;
  Decoded d = decode(e.data);
  Node& n = nodes_.at(id);
  std::optional<std::string> read;
  if (d.write) {
    n.kv[d.key] = d.value;
  } else if (auto v = n.kv.find(d.key); v != n.kv.end()) {
    read = v->second;
  }
  applied_ops_.insert(d.id);
  for (Client& c : clients_) {
    if (c.outstanding && c.outstanding->id == d.id && c.outstanding->node == id) {
      finish_op(c, read);
    }
  }
}

// Adds an operation to the history: returned at `returned` (unset: outcome unknown), having
// read `read_value` if it is a read.
void Simulation::record(const Op& op, std::optional<std::int64_t> returned,
                        std::optional<std::string> read_value) {
  std::optional<std::string> value =
      op.kind == check::OpKind::kWrite ? std::optional<std::string>(op.value) : read_value;
  history_.push_back(check::Operation{op.client, op.kind, op.key, value, op.call, returned});
}

void Simulation::finish_op(Client& c, std::optional<std::string> read_value) {
  const Op& op = *c.outstanding;
  record(op, static_cast<std::int64_t>(now_), read_value);
  if (op.kind == check::OpKind::kWrite) acked_writes_.insert(op.id);
  ++result_.ops_ok;
  c.outstanding.reset();
  c.next_at = now_ + random_.uniform(0, 5);
}

void Simulation::run_clients(bool calm) {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    Client& c = clients_[i];
    if (c.outstanding &&
        static_cast<std::int64_t>(now_) > c.outstanding->call + o_.op_deadline_ticks) {
      // Deadline: the outcome is unknown (it may still commit later).
      const Op& op = *c.outstanding;
      event(fmt::format("client {} gave up on op {} proposed at n{}: {}", i, op.id,
                        static_cast<std::uint64_t>(op.node), describe(op.node)));
      if (calm && op.call > static_cast<std::int64_t>(o_.chaos_ticks + o_.calm_ticks / 3)) {
        fail(fmt::format("liveness: client {} op {} timed out after the network healed", i, op.id));
      }
      record(op, std::nullopt, std::nullopt);
      ++result_.ops_unknown;
      c.outstanding.reset();
      c.next_at = now_ + random_.uniform(1, 10);
    }
    if (c.outstanding || now_ < c.next_at) continue;
    NodeId target = voters_[random_.uniform(0, voters_.size() - 1)];
    Node& n = nodes_.at(target);
    if (!n.raft || n.raft->role() != Role::kLeader) {
      c.next_at = now_ + 1;  // retry on another server
      continue;
    }
    Op op;
    op.id = next_op_id_++;
    op.client = i;
    op.kind = chance(0.5) ? check::OpKind::kWrite : check::OpKind::kRead;
    op.key = fmt::format("k{}", random_.uniform(0, o_.keys - 1));
    op.value = fmt::format("c{}-{}", i, ++c.sequence);
    op.node = target;
    op.call = static_cast<std::int64_t>(now_);
    if (n.raft->propose(encode(op)).is_ok()) c.outstanding = op;
  }
}

std::string Simulation::describe(NodeId id) const {
  const Node& n = nodes_.at(id);
  if (!n.raft) return "crashed";
  std::string out =
      fmt::format("{} term {} last {} stable {} commit {}", raft::to_string(n.raft->role()),
                  n.raft->term().value, n.raft->log().last_index().value,
                  n.raft->log().stable().value, n.raft->log().committed().value);
  for (const raft::FollowerProgress& p : n.raft->progress()) {
    out +=
        fmt::format("; n{} match {} {} quiet {}", static_cast<std::uint64_t>(p.id), p.match.value,
                    p.replicating ? "replicating" : "probing", p.ticks_since_contact);
  }
  return out;
}

void Simulation::check_leaders() {
  for (auto& [id, n] : nodes_) {
    if (!n.raft) continue;
    Role role = n.raft->role();
    if (role == Role::kLeader && n.last_role != Role::kLeader) {
      std::uint64_t term = n.raft->term().value;
      auto [it, fresh] = leader_of_term_.try_emplace(term, id);
      if (!fresh && it->second != id) {
        fail(fmt::format("election safety: n{} and n{} both lead term {}",
                         static_cast<std::uint64_t>(it->second), static_cast<std::uint64_t>(id),
                         term));
      }
      ++result_.elections;
      if (id == transfer_to_) {
        ++result_.transfers_completed;
        transfer_to_ = NodeId::kNone;
      }
      event(fmt::format("n{} leads term {}", static_cast<std::uint64_t>(id), term));
      // Leader completeness: it holds every entry committed so far.
      for (const auto& [index, entry] : committed_) {
        if (n.raft->log().term_at(LogIndex{index}) != entry.first) {
          fail(fmt::format("leader completeness: n{} leads term {} without committed index {}",
                           static_cast<std::uint64_t>(id), term, index));
          break;
        }
      }
    }
    n.last_role = role;
  }
}

void Simulation::check_end() {
  for (Client& c : clients_) {  // still waiting at the end: outcome unknown
    if (!c.outstanding) continue;
    record(*c.outstanding, std::nullopt, std::nullopt);
  }
  bool leader = std::any_of(nodes_.begin(), nodes_.end(), [](const auto& kv) {
    return kv.second.raft && kv.second.raft->role() == Role::kLeader;
  });
  if (!leader) fail("liveness: no leader after the network healed and every server restarted");
  for (std::uint64_t id : acked_writes_) {
    if (!applied_ops_.count(id)) fail(fmt::format("acknowledged write {} was lost", id));
  }
  auto verdict = check::check_linearizable(history_);
  if (!verdict.is_ok()) {
    fail("linearizability checker refused the history: " + verdict.status().message());
  } else if (verdict->verdict == check::Verdict::kNotLinearizable) {
    fail(fmt::format("linearizability: key {} is not linearizable:\n{}", verdict->key,
                     verdict->explanation));
  }
}

RaftSimResult Simulation::run() {
  std::uint64_t end = o_.chaos_ticks + o_.calm_ticks;
  for (now_ = 1; now_ <= end && result_.ok; ++now_) {
    bool calm = now_ > o_.chaos_ticks;
    if (!calm) {
      inject_faults();
    } else if (now_ == o_.chaos_ticks + 1) {
      cut_.clear();
      event("calm: network healed, crashed servers restart");
    }
    for (auto& [id, n] : nodes_) {
      if (!n.raft && (calm || now_ >= n.restart_at)) {
        start(id);
        event(fmt::format("restart n{}", static_cast<std::uint64_t>(id)));
      }
    }
    for (auto& [id, n] : nodes_) {
      if (n.raft) n.raft->tick();
    }
    deliver();
    for (NodeId id : voters_) process(id);
    check_leaders();
    run_clients(calm);
  }
  if (result_.ok) check_end();
  result_.trace.assign(trace_.begin(), trace_.end());
  return result_;
}

}  // namespace

RaftSimResult run_raft_sim(const RaftSimOptions& options) { return Simulation(options).run(); }

}  // namespace spofless::sim
