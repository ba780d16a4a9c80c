#pragma once

// The simulator's internals (raft_sim.h says what it does), shared by its files:
//   raft_sim.cc        the run loop, the network, faults, servers, their Ready batches, compaction
//   sim_membership.cc  membership changes, resets of removed servers, the crash policy
//   sim_clients.cc     clients: writes through the log, reads through read_index, the history
//   sim_checks.cc      the checkers
// Single-threaded: a Simulation lives on one thread for one run.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "check/linearizability.h"
#include "core/random.h"
#include "raft/raft.h"
#include "sim/raft_sim.h"

namespace spofless::sim {

using raft::Entry;
using raft::LogIndex;
using raft::Membership;
using raft::Message;
using raft::NodeId;
using raft::Ready;
using raft::Role;
using raft::Term;

inline std::uint64_t number(NodeId id) { return static_cast<std::uint64_t>(id); }

// The replicated state machine: registers by key. A snapshot's data is serialize(kv).
using Kv = std::map<std::string, std::string>;
std::string serialize(const Kv& kv);  // "key=value\n" per key; neither holds '=' or '\n'
Kv deserialize(const std::string& data);

// A client operation. A write travels through the log as "<op id>|<key>|<value>"; a read asks
// read_index with the op id as its context.
struct Op {
  std::uint64_t id = 0;
  std::size_t client = 0;
  check::OpKind kind = check::OpKind::kRead;
  std::string key;
  std::string value;
  NodeId node = NodeId::kNone;  // where it was proposed or asked; that server answers
  std::int64_t call = 0;
  std::uint64_t ask_again_at = 0;  // a read not yet confirmed asks read_index again then
};

struct Write {
  std::uint64_t id = 0;
  std::string key;
  std::string value;
};
std::string encode_write(const Op& op);
Write decode_write(const std::string& data);

// A read that Raft confirmed: serve it once the state machine has applied `index`.
struct ConfirmedRead {
  LogIndex index;
  std::uint64_t op = 0;
};

struct Node {
  std::unique_ptr<raft::Raft> raft;  // null while crashed
  raft::PersistentState disk;
  // On an empty disk: bootstrap the cluster with the first voters (servers 1..N), or join it
  // (the spare server, and a server reset to a fresh disk).
  bool bootstraps = false;
  std::optional<Ready> pending;  // handed out, not yet persisted
  std::uint64_t persist_at = 0;
  std::uint64_t restart_at = 0;
  Kv kv;
  LogIndex applied;  // the last entry `kv` reflects
  Role last_role = Role::kFollower;
  bool retired = false;                 // shut down after its removal, until it is added again
  bool log_lost = false;                // its marker: the disk lost log entries, not yet re-synced
  std::set<std::uint64_t> reads_asked;  // op ids passed to read_index, not yet confirmed
  std::vector<ConfirmedRead> reads_confirmed;
};

struct Client {
  std::optional<Op> outstanding;
  std::uint64_t next_at = 0;
  std::uint64_t sequence = 0;
};

class Simulation {
 public:
  explicit Simulation(const RaftSimOptions& o);
  RaftSimResult run();

 private:
  bool chance(double p) { return random_.uniform(0, 999'999) < p * 1'000'000; }
  void event(std::string text);
  void fail(std::string why);

  // raft_sim.cc
  void start(NodeId id);
  void crash(NodeId id);
  void maybe_lose_log(NodeId id);  // at a crash
  void inject_faults();
  void transfer_leadership();
  void deliver();
  void send(const Message& m);
  void process(NodeId id);
  void install_snapshot(NodeId id, const raft::Snapshot& s);
  void apply(NodeId id, const Entry& e);
  void maybe_compact(NodeId id);
  NodeId leader() const;  // the running leader of the newest term, if any
  std::string describe(NodeId id) const;

  // sim_membership.cc
  void change_membership();
  void reset(NodeId id);
  void retire_disruptive_servers();
  const Membership& committed_membership() const;
  std::vector<Membership> memberships_in_play() const;
  bool listed_in_play(NodeId id) const;  // a member of one of memberships_in_play()
  bool majorities_survive_crash(NodeId victim) const;
  bool listed_anywhere(NodeId id) const;

  // sim_clients.cc
  void run_clients(bool calm);
  void start_op(std::size_t client);
  void ask_again(Op& op);
  void take_read_states(NodeId id, const std::vector<raft::ReadState>& states);
  void serve_reads(NodeId id);
  void finish_op(Client& c, std::optional<std::string> read_value);
  void record(const Op& op, std::optional<std::int64_t> returned,
              std::optional<std::string> read_value);

  // sim_checks.cc
  void check_entry(NodeId id, const Entry& e);
  void check_state(NodeId id, LogIndex index, const std::string& state);
  void check_snapshot(NodeId id, const raft::Snapshot& s);
  void check_leaders();
  void check_new_leader(NodeId id, const raft::Raft& r);
  void check_log_matching();
  void check_end();
  LogIndex highest_committed() const;  // the newest index some server applied or snapshotted

  const RaftSimOptions o_;
  SeededRandom random_;
  // Draws for log losses only, so that a run without any replays as it did before they existed.
  SeededRandom loss_random_;
  std::vector<NodeId> first_voters_;  // 1..N, bootstrapped as entry 1
  std::vector<NodeId> servers_;       // the first voters, and the spare N+1 if any
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
  // Acknowledged writes: op id -> the (index, term) of the entry that carried it.
  std::map<std::uint64_t, std::pair<LogIndex, Term>> acked_writes_;
  std::map<LogIndex, std::pair<Term, std::string>> committed_;  // index -> entry applied
  // Index -> the state machine after it, for every index some server applied or holds a
  // snapshot of: the newest key is the highest index known committed.
  std::map<LogIndex, std::string> state_at_;
  // Memberships known committed, by the index they are in force from (an entry's, or a
  // snapshot's), and the ones the simulation proposed that may still commit.
  std::map<LogIndex, Membership> committed_memberships_;
  std::map<LogIndex, Membership> proposed_memberships_;
  std::map<Term, NodeId> leader_of_term_;
  std::optional<std::pair<std::uint64_t, Term>> leader_crash_;  // (tick, term) awaiting failover
  NodeId transfer_to_ = NodeId::kNone;  // the target of the last transfer, until it leads
  std::deque<std::string> trace_;
  RaftSimResult result_;
};

}  // namespace spofless::sim
