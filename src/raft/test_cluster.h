#pragma once

// Test-only: a small in-memory Raft cluster for scenario tests. It delivers every message at
// once, in order, except across the links a test cuts, and persists each Ready on an
// in-memory disk (memory_storage.h) unless a test holds that server's disk.

#include <deque>
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
};

class Cluster {
 public:
  explicit Cluster(std::size_t size, Options options = {}, std::uint64_t seed = 1)
      : options_(options) {
    for (std::uint64_t i = 1; i <= size; ++i) voters_.push_back(n(i));
    for (NodeId id : voters_) {
      Node& node = nodes_[id];
      node.random = std::make_unique<SeededRandom>(seed * 100 + static_cast<std::uint64_t>(id));
      start(id);
    }
  }

  Raft& raft(std::uint64_t id) { return *nodes_.at(n(id)).raft; }
  const std::vector<Entry>& applied(std::uint64_t id) { return nodes_.at(n(id)).applied; }

  // Restarts a server from what it persisted, losing everything else.
  void restart(std::uint64_t id) { start(n(id)); }

  // The server's ready work is done without persisting it for `id` (its disk is slow).
  void hold_disk(std::uint64_t id, bool hold) { nodes_.at(n(id)).disk_held = hold; }

  void cut(std::uint64_t a, std::uint64_t b) {
    cut_.insert({n(a), n(b)});
    cut_.insert({n(b), n(a)});
  }
  void isolate(std::uint64_t id) {
    for (NodeId other : voters_) {
      if (other != n(id)) cut(id, static_cast<std::uint64_t>(other));
    }
  }
  void heal() { cut_.clear(); }

  void tick(std::uint64_t id) {
    raft(id).tick();
    settle();
  }
  void tick_all(int times) {
    for (int t = 0; t < times; ++t) {
      for (NodeId id : voters_) nodes_.at(id).raft->tick();
      settle();
    }
  }
  // Ticks everyone until `id` campaigns and the messages settle.
  void elect(std::uint64_t id) {
    for (int t = 0; t < 100 && raft(id).role() != Role::kLeader; ++t) tick(id);
  }

  // Delivers messages and does every server's ready work until nothing is left. Bounded: a
  // livelock fails the test.
  void settle() {
    for (int round = 0; round < 10'000; ++round) {
      bool busy = false;
      for (NodeId id : voters_) busy = process(id) || busy;
      if (wire_.empty()) {
        if (!busy) return;
        continue;
      }
      Message m = wire_.front();
      wire_.pop_front();
      if (!cut_.count({m.from, m.to})) nodes_.at(m.to).raft->step(m);
    }
    ADD_FAILURE() << "messages did not settle";
  }

  // The leaders of the highest term, and whether there is exactly one.
  std::vector<std::uint64_t> leaders() {
    std::vector<std::uint64_t> out;
    for (NodeId id : voters_) {
      if (nodes_.at(id).raft->role() == Role::kLeader)
        out.push_back(static_cast<std::uint64_t>(id));
    }
    return out;
  }

  Result<LogIndex> propose(std::uint64_t id, std::string data) {
    auto index = raft(id).propose(std::move(data));
    settle();
    return index;
  }

 private:
  struct Node {
    std::unique_ptr<SeededRandom> random;
    std::unique_ptr<Raft> raft;
    PersistentState disk;
    std::vector<Entry> applied;
    bool disk_held = false;
  };

  void start(NodeId id) {
    Node& node = nodes_.at(id);
    Config config;
    config.id = id;
    config.voters = voters_;
    config.pre_vote = options_.pre_vote;
    config.check_quorum = options_.check_quorum;
    node.raft = std::make_unique<Raft>(config, node.disk, *node.random);
    node.applied.clear();
  }

  // Does one Ready of `id`; false when there was none.
  bool process(NodeId id) {
    Node& node = nodes_.at(id);
    if (node.disk_held || !node.raft->has_ready()) return false;
    Ready rd = node.raft->ready();
    for (Message& m : rd.messages) wire_.push_back(std::move(m));
    persist(node.disk, rd);
    for (Message& m : rd.messages_after_persist) wire_.push_back(std::move(m));
    node.applied.insert(node.applied.end(), rd.committed.begin(), rd.committed.end());
    node.raft->advance(rd);
    return true;
  }

  Options options_;
  std::vector<NodeId> voters_;
  std::map<NodeId, Node> nodes_;
  std::deque<Message> wire_;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

inline std::vector<std::string> data_of(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) {
    if (e.type == EntryType::kNormal) out.push_back(e.data);
  }
  return out;
}

}  // namespace spofless::raft::testing
