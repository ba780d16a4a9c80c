#pragma once

// Test-only: a small in-memory Raft cluster for scenario tests. It delivers every message at
// once, in order, except across the links a test cuts or the messages its filter drops or
// holds, and persists each Ready on an in-memory disk (memory_storage.h) unless a test holds
// that server's disk. Each server runs a toy state machine: the list of the normal entries'
// data it applied, which a snapshot serializes as one comma-separated string.

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft/memory_storage.h"
#include "raft/raft.h"

namespace spofless::raft::testing {

inline NodeId n(std::uint64_t id) { return NodeId{id}; }

// Bootstrapping writes the first membership at term 1; the first election is for term 2.
constexpr Term kFirstTerm{2};

struct Options {
  bool pre_vote = true;
  bool check_quorum = true;
  ReadMode read_mode = ReadMode::kReadIndex;
  std::size_t max_entries_per_append = limits::kRaftMaxEntriesPerAppend;
};

// What the wire does with one message; a test's filter decides.
enum class Fate { kDeliver, kDrop, kHold };
using Filter = std::function<Fate(const Message&)>;
using MessagePredicate = std::function<bool(const Message&)>;

// The toy state machine's snapshot format: its values joined by commas.
inline std::string serialize(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ",") + v;
  return out;
}
inline std::vector<std::string> deserialize(const std::string& data) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t comma = data.find(',', start);
    if (comma == std::string::npos) comma = data.size();
    out.push_back(data.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

class Cluster {
 public:
  // Servers 1..size bootstrap the cluster as its first voters.
  explicit Cluster(std::size_t size, Options options = {}, std::uint64_t seed = 1)
      : options_(options), seed_(seed) {
    for (std::uint64_t i = 1; i <= size; ++i) voters_.push_back(n(i));
    for (NodeId id : voters_) add(id, Start::kBootstrap);
  }

  // A new server that joins the running cluster: it starts with an empty Config::voters and
  // learns the membership from the leader once a change adds it.
  void add_server(std::uint64_t id) { add(n(id), Start::kJoin); }

  Raft& raft(std::uint64_t id) { return *nodes_.at(n(id)).raft; }
  // The entries applied since the server last started (a loaded snapshot is not among them).
  const std::vector<Entry>& applied(std::uint64_t id) { return nodes_.at(n(id)).applied; }
  // The state machine: every normal entry's data, in order, including what snapshots held.
  const std::vector<std::string>& state(std::uint64_t id) { return nodes_.at(n(id)).state; }
  // The snapshots the server loaded from a Ready since it last started.
  const std::vector<Snapshot>& loaded_snapshots(std::uint64_t id) {
    return nodes_.at(n(id)).loaded_snapshots;
  }
  // The linearizable reads the server's Readies confirmed since it last started.
  const std::vector<ReadState>& read_states(std::uint64_t id) {
    return nodes_.at(n(id)).read_states;
  }
  const PersistentState& disk(std::uint64_t id) { return nodes_.at(n(id)).disk; }

  // Restarts a server from what it persisted, losing everything else; revives a stopped one.
  void restart(std::uint64_t id) {
    nodes_.at(n(id)).stopped = false;
    start(n(id));
  }
  // The server crashes and stays down: no ticks, no messages in or out, until restart().
  void stop(std::uint64_t id) { nodes_.at(n(id)).stopped = true; }
  // Whether a server whose disk lost entries knows it (kNoticed: Config::log_lost), or starts
  // as if nothing happened, as Raft without the lost-log state would (kUnnoticed: for tests
  // that show what goes wrong then).
  enum class Loss { kNoticed, kUnnoticed };
  // The server crashes and its disk loses every entry after `keep_through`, as a corrupt
  // record in the middle of a write-ahead log would (term, vote and snapshot survive); it
  // restarts knowing it lost entries. Like a server's marker file, that knowledge survives
  // further restarts until Raft reports the server re-synced.
  void restart_losing_log(std::uint64_t id, LogIndex keep_through, Loss loss = Loss::kNoticed) {
    Node& node = nodes_.at(n(id));
    std::erase_if(node.disk.entries, [&](const Entry& e) { return e.index > keep_through; });
    if (loss == Loss::kNoticed) {
      node.log_lost_marker = true;
    } else {  // what a server unaware of the loss would need to start at all
      node.disk.hard_state.commit = std::min(node.disk.hard_state.commit, keep_through);
    }
    restart(id);
  }
  // Whether the server's marker says it still re-syncs a log that lost entries.
  bool log_lost_marker(std::uint64_t id) { return nodes_.at(n(id)).log_lost_marker; }

  // The server's ready work is done without persisting it for `id` (its disk is slow).
  void hold_disk(std::uint64_t id, bool hold) { nodes_.at(n(id)).disk_held = hold; }

  // The application snapshots its state machine at the applied index and compacts the log
  // there (Raft §7), persisting the snapshot as the server's storage would.
  Status compact(std::uint64_t id) {
    Node& node = nodes_.at(n(id));
    Status s = node.raft->compact(node.raft->log().applied(), serialize(node.state));
    if (s.is_ok()) persist_compaction(node.disk, node.raft->snapshot());
    return s;
  }

  void cut(std::uint64_t a, std::uint64_t b) {
    cut_.insert({n(a), n(b)});
    cut_.insert({n(b), n(a)});
  }
  void isolate(std::uint64_t id) {
    for (NodeId other : servers_) {
      if (other != n(id)) cut(id, static_cast<std::uint64_t>(other));
    }
  }
  void heal() { cut_.clear(); }

  // Every message crossing an uncut link is first shown to `filter`.
  void set_filter(Filter filter) { filter_ = std::move(filter); }
  void clear_filter() { filter_ = nullptr; }
  // Delivers the held messages that match, in the order they were held, then settles.
  void release(const MessagePredicate& which) {
    std::deque<Message> held = std::move(held_);
    held_.clear();
    for (Message& m : held) {
      if (which(m)) {
        deliver(m);
      } else {
        held_.push_back(std::move(m));
      }
    }
    settle();
  }
  void release_all() {
    release([](const Message&) { return true; });
  }

  // Every message any server sent, delivered or not, in send order.
  const std::vector<Message>& sent() const { return sent_; }
  std::size_t count_sent(MessageType type) const {
    std::size_t count = 0;
    for (const Message& m : sent_) count += m.type == type ? 1 : 0;
    return count;
  }

  void tick(std::uint64_t id) {
    raft(id).tick();
    settle();
  }
  void tick_all(int times) {
    for (int t = 0; t < times; ++t) {
      for (NodeId id : servers_) {
        if (!nodes_.at(id).stopped) nodes_.at(id).raft->tick();
      }
      settle();
    }
  }
  // Ticks everyone until `id` campaigns and the messages settle.
  void elect(std::uint64_t id) {
    for (int t = 0; t < 100 && raft(id).role() != Role::kLeader; ++t) tick(id);
  }
  // Ticks everyone until exactly one server leads; returns it (0 if none emerged).
  std::uint64_t wait_for_leader() {
    for (int t = 0; t < 200 && leaders().size() != 1; ++t) tick_all(1);
    std::vector<std::uint64_t> l = leaders();
    return l.size() == 1 ? l[0] : 0;
  }

  // Delivers messages and does every server's ready work until nothing is left. Bounded, with
  // room for the thousands of messages a test may queue before settling: a livelock fails the
  // test.
  void settle() {
    for (int round = 0; round < 100'000; ++round) {
      bool busy = false;
      for (NodeId id : servers_) busy = process(id) || busy;
      if (wire_.empty()) {
        if (!busy) return;
        continue;
      }
      Message m = std::move(wire_.front());
      wire_.pop_front();
      Fate fate = filter_ ? filter_(m) : Fate::kDeliver;
      if (fate == Fate::kHold) held_.push_back(m);
      if (fate == Fate::kDeliver) deliver(m);
    }
    ADD_FAILURE() << "messages did not settle";
  }

  // The servers that believe they lead (a deposed leader may not know it yet).
  std::vector<std::uint64_t> leaders() {
    std::vector<std::uint64_t> out;
    for (NodeId id : servers_) {
      const Node& node = nodes_.at(id);
      if (!node.stopped && node.raft->role() == Role::kLeader) {
        out.push_back(static_cast<std::uint64_t>(id));
      }
    }
    return out;
  }

  Result<LogIndex> propose(std::uint64_t id, std::string data) {
    auto index = raft(id).propose(std::move(data));
    settle();
    return index;
  }
  Result<LogIndex> change(std::uint64_t id, ConfChange::Kind kind, std::uint64_t node) {
    auto index = raft(id).propose_membership(ConfChange{kind, n(node)});
    settle();
    return index;
  }
  Status read(std::uint64_t id, std::string context) {
    Status s = raft(id).read_index(std::move(context));
    settle();
    return s;
  }

 private:
  enum class Start { kBootstrap, kJoin };  // with the first voters, or into a running cluster

  struct Node {
    std::unique_ptr<SeededRandom> random;
    std::unique_ptr<Raft> raft;
    Start start = Start::kBootstrap;
    PersistentState disk;
    std::vector<Entry> applied;
    std::vector<std::string> state;
    std::vector<Snapshot> loaded_snapshots;
    std::vector<ReadState> read_states;
    bool disk_held = false;
    bool stopped = false;
    bool log_lost_marker = false;  // see restart_losing_log()
  };

  void add(NodeId id, Start start_as) {
    Node& node = nodes_[id];
    node.random = std::make_unique<SeededRandom>(seed_ * 100 + static_cast<std::uint64_t>(id));
    node.start = start_as;
    servers_.push_back(id);
    start(id);
  }

  void start(NodeId id) {
    Node& node = nodes_.at(id);
    Config config;
    config.id = id;
    if (node.start == Start::kBootstrap) config.voters = voters_;
    config.pre_vote = options_.pre_vote;
    config.check_quorum = options_.check_quorum;
    config.read_mode = options_.read_mode;
    config.max_entries_per_append = options_.max_entries_per_append;
    config.log_lost = node.log_lost_marker;
    node.raft = std::make_unique<Raft>(config, node.disk, *node.random);
    node.applied.clear();
    node.loaded_snapshots.clear();
    node.read_states.clear();
    // Like a real application, the state machine restarts from the persisted snapshot; Raft
    // hands the committed entries after it out again.
    node.state = deserialize(node.disk.snapshot.data);
  }

  void deliver(const Message& m) {
    auto it = nodes_.find(m.to);
    if (cut_.count({m.from, m.to}) || it == nodes_.end() || it->second.stopped) return;
    it->second.raft->step(m);
  }

  // Does one Ready of `id`; false when there was none.
  bool process(NodeId id) {
    Node& node = nodes_.at(id);
    if (node.stopped || node.disk_held || !node.raft->has_ready()) return false;
    Ready rd = node.raft->ready();
    for (Message& m : rd.messages) send(std::move(m));
    persist(node.disk, rd);
    for (Message& m : rd.messages_after_persist) send(std::move(m));
    if (rd.snapshot) {  // loaded before the entries that follow it are applied
      node.state = deserialize(rd.snapshot->data);
      node.loaded_snapshots.push_back(*rd.snapshot);
    }
    for (const Entry& e : rd.committed) {
      if (e.type == EntryType::kNormal) node.state.push_back(e.data);
    }
    node.applied.insert(node.applied.end(), rd.committed.begin(), rd.committed.end());
    node.read_states.insert(node.read_states.end(), rd.read_states.begin(), rd.read_states.end());
    node.raft->advance(rd);
    if (!node.raft->log_lost()) node.log_lost_marker = false;  // the server drops its marker
    return true;
  }

  void send(Message m) {
    sent_.push_back(m);
    wire_.push_back(std::move(m));
  }

  Options options_;
  std::uint64_t seed_;
  std::vector<NodeId> voters_;   // the bootstrapping servers
  std::vector<NodeId> servers_;  // every server, joiners included, in the order added
  std::map<NodeId, Node> nodes_;
  std::deque<Message> wire_;
  std::deque<Message> held_;
  std::vector<Message> sent_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  Filter filter_;
};

// Adds server `id` to the cluster led by `leader` as a learner, and lets it catch up.
inline void add_learner(Cluster& c, std::uint64_t leader, std::uint64_t id) {
  c.add_server(id);
  Result<LogIndex> index = c.change(leader, ConfChange::Kind::kAddLearner, id);
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();
  c.tick_all(2);
  ASSERT_GE(c.raft(leader).log().committed(), *index);
  ASSERT_EQ(c.raft(id).log().last_index(), c.raft(leader).log().last_index());
}

// Expects `status` to be an error of `code` whose message mentions `about`.
inline void expect_error(const Status& status, StatusCode code, std::string_view about) {
  EXPECT_EQ(status.code(), code) << status.to_string();
  EXPECT_NE(status.message().find(about), std::string_view::npos) << status.to_string();
}

// The membership with these voters and learners.
inline Membership members(std::set<std::uint64_t> voters, std::set<std::uint64_t> learners = {}) {
  Membership m;
  for (std::uint64_t id : voters) m.voters.insert(n(id));
  for (std::uint64_t id : learners) m.learners.insert(n(id));
  return m;
}

inline std::vector<std::string> data_of(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) {
    if (e.type == EntryType::kNormal) out.push_back(e.data);
  }
  return out;
}

}  // namespace spofless::raft::testing
