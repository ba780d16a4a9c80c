#pragma once

// One `spofless db` server: the Raft core (src/raft) driven by a clock tick, its Ready work
// done on real adapters — the write-ahead log (src/storage), the peer transport
// (src/io/peer_transport.h) — and the key-value state machine (src/kv) it applies to.
//
// The node loop, all on the io_context thread:
//   tick / peer message / proposal / read  ->  raft  ->  process_ready() (posted once per
//   burst, so every proposal that arrived meanwhile shares one fsync: group commit):
//     send rd.messages; save(rd) with one fsync; send rd.messages_after_persist;
//     apply rd.committed (answering the waiting clients); serve confirmed reads; advance.
//
// Writes on a follower are forwarded to the leader's client port (Forwarder); reads are
// linearizable by ReadIndex on any voter or learner (a follower asks the leader for the read
// index through Raft), or stale on request when the replica is recent enough.
//
// Thread model: every member function on the io_context thread. One helper thread does the
// write-ahead log's writes and fsyncs (process_ready).

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "core/random.h"
#include "core/status.h"
#include "kv/state_machine.h"
#include "obs/metrics.h"
#include "raft/raft.h"

namespace spofless::storage {
class DiskStorage;
}
namespace spofless::io {
class PeerTransport;
}

namespace spofless::db {

class Forwarder;

struct NodeOptions {
  raft::NodeId id = raft::NodeId::kNone;
  std::filesystem::path data_dir;
  // Every voter's peer address, this node's included (`--peers`).
  std::map<raft::NodeId, boost::asio::ip::tcp::endpoint> peers;
  boost::asio::ip::tcp::endpoint peer_listen;
  // Where clients reach this node: followers forward writes to the leader's.
  boost::asio::ip::tcp::endpoint client_address;
  bool learner = false;  // joins an existing cluster without a vote
  std::chrono::milliseconds tick{40};
  std::uint32_t election_ticks = 10;
  std::uint32_t heartbeat_ticks = 2;
  raft::ReadMode read_mode = raft::ReadMode::kReadIndex;
  std::uint64_t snapshot_entries = 10'000;  // compact the log after this many applied entries
  bool fsync = true;
  bool auto_promote = false;  // leader promotes learners that caught up
  std::chrono::milliseconds request_timeout{5'000};
  std::chrono::milliseconds session_ttl{3'600'000};
  std::uint64_t seed = 0;  // election timeouts; 0 = from the id and the clock
};

// A request's answer, already encoded as RESP2.
using Done = std::function<void(std::string resp)>;

class Node {
 public:
  struct Metrics;  // node.cc

  Node(boost::asio::io_context& io, obs::Registry& registry, NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Where clients reach this node (the bound --listen address); before start().
  void set_client_address(const boost::asio::ip::tcp::endpoint& address) {
    options_.client_address = address;
  }
  // Opens the data directory, recovers, listens for peers and starts ticking.
  Status start();
  // AUTH for the connections that forward writes to the leader (`--requirepass`).
  void set_forward_password(std::string password);
  // A graceful stop: a leader first hands leadership to its most caught-up voter, so that
  // the cluster does not wait out an election timeout; then `done` (at most after one
  // election timeout).
  void drain(std::function<void()> done);
  void stop();

  // A write: proposed here on the leader, forwarded to the leader from a follower, refused
  // with -TRYAGAIN while no leader is known. `done` is called exactly once.
  void write(kv::Command command, Done done);
  // A linearizable read (ReadIndex), served once this node has applied the read index.
  void read(kv::ReadOp op, Done done);
  // A read from the local state, refused when this replica lags by more than `max_stale`.
  void read_stale(const kv::ReadOp& op, std::chrono::milliseconds max_stale, Done done);
  // WATCH: the applied index a later EXEC compares against.
  std::uint64_t watch_index() const;

  // Admin operations (RESP SPOFLESS.* commands and `spofless db ...` subcommands).
  Status transfer_leadership(raft::NodeId to);
  void change_membership(raft::ConfChange change, Done done);

  // Facts for INFO, /status, /ready.
  bool is_leader() const;
  raft::NodeId leader() const;
  std::optional<boost::asio::ip::tcp::endpoint> leader_client_address() const;
  bool can_read_linearizable() const;  // a leader is known and this node is not re-syncing
  std::optional<std::chrono::milliseconds> staleness() const;  // nullopt: unknown (no leader)
  nlohmann::json status() const;
  std::string info_replication() const;  // INFO's replication section
  std::string info_server_extra() const;
  std::size_t dbsize() const;

 private:
  struct PendingWrite {
    raft::Term term;
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };
  struct PendingRead {
    kv::ReadOp op;
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };

  void schedule_tick();
  void on_tick();
  void on_message(raft::Message m);
  void propose_here(kv::Command command, Done done);
  void schedule_ready();
  void process_ready();
  void finish_ready(raft::Ready& ready);
  void after_ready();
  void apply(const raft::Entry& entry);
  void serve_reads();
  void request_read_index();
  void expire_requests();
  void maybe_compact();
  void maybe_promote_learners();
  void after_leader_change();
  void update_peers();

  boost::asio::io_context& io_;
  obs::Registry& registry_;
  NodeOptions options_;
  SeededRandom random_;
  std::unique_ptr<storage::DiskStorage> storage_;
  std::unique_ptr<raft::Raft> raft_;
  std::unique_ptr<io::PeerTransport> transport_;
  std::unique_ptr<Forwarder> forwarder_;
  kv::StateMachine state_;
  boost::asio::steady_timer ticker_;
  std::function<void()> drained_;  // set while draining: called once leadership is handed over
  std::chrono::steady_clock::time_point drain_deadline_{};
  // Saves Ready batches (fsync) so that this thread never waits for the disk. It owns
  // storage_ from the post of a save until its completion comes back (persisting_).
  boost::asio::thread_pool wal_thread_{1};
  bool persisting_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once stopped
  bool ready_scheduled_ = false;
  bool stopped_ = false;

  std::map<std::uint64_t, PendingWrite> writes_;  // by log index
  std::map<std::uint64_t, Done> changes_;         // membership changes, by log index
  // Reads waiting for a read index: the batch not yet asked for, and asked batches by context.
  std::vector<PendingRead> unasked_reads_;
  std::map<std::uint64_t, std::vector<PendingRead>> asked_reads_;
  std::uint64_t next_read_batch_ = 1;
  // Confirmed reads waiting for the state machine to reach their index.
  std::multimap<std::uint64_t, PendingRead> confirmed_reads_;

  raft::NodeId last_leader_ = raft::NodeId::kNone;
  std::chrono::steady_clock::time_point last_leader_contact_{};
  std::uint64_t leader_commit_seen_ = 0;  // the newest commit index a leader told us
  std::chrono::steady_clock::time_point caught_up_at_{};  // applied >= leader_commit_seen_
  std::uint64_t last_snapshot_index_ = 0;
  // Leader: when each follower last had every entry, for its lag in milliseconds.
  std::map<raft::NodeId, std::chrono::steady_clock::time_point> follower_caught_up_at_;

  std::unique_ptr<Metrics> metrics_;
};

}  // namespace spofless::db
