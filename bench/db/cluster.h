#pragma once

// A three-node cluster under test (etcd or spofless db) and the connections the load uses.
// The subclasses say how to start a node, ask it who leads, and talk to it; this class runs
// the processes.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/db/process.h"
#include "core/result.h"

namespace spofless::bench {

// One client connection to one node.
// Thread model: owned by one thread (a load worker or the failover writer).
class KvConnection {
 public:
  virtual ~KvConnection() = default;

  // Writes `value` under `key`; ok once the cluster acknowledged it (for both systems: the
  // write is on disk on a majority). An error reply is unavailable naming it; a transport
  // failure also leaves broken() set.
  virtual Status put(std::string_view key, std::string_view value,
                     std::chrono::milliseconds timeout) = 0;
  // A linearizable read; ok only when `key` holds exactly `expected_bytes` bytes.
  virtual Status get(std::string_view key, std::size_t expected_bytes,
                     std::chrono::milliseconds timeout) = 0;
  // The connection cannot be used again; the caller drops it.
  virtual bool broken() const = 0;
};

// What one node says about itself.
struct NodeView {
  bool is_leader = false;     // it claims leadership
  bool knows_leader = false;  // it names some leader (itself included)
};

// Thread model: owned by the main thread, which starts, kills and stops nodes. connect() may
// be called from any thread: it reads only the addresses fixed at construction.
class Cluster {
 public:
  virtual ~Cluster();  // stop()
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  virtual std::string_view name() const = 0;  // "etcd", "spofless"
  // The timing settings the nodes run with, in words, for the report.
  virtual std::string settings() const = 0;
  virtual Result<std::unique_ptr<KvConnection>> connect(
      std::size_t node, std::chrono::milliseconds timeout) const = 0;
  // Asks one node over its status endpoint.
  virtual Result<NodeView> view(std::size_t node) const = 0;

  std::size_t size() const { return nodes_.size(); }
  // Creates the data directories and spawns every node. Fails naming the node that could not
  // be started.
  Status start();
  // The node that claims leadership, polled every kLeaderPollMs until `timeout`. Fails when
  // none does in time, a node died by itself (naming its log), or the bench is interrupted.
  Result<std::size_t> wait_leader(std::chrono::milliseconds timeout);
  // Waits until `node` names a leader (after a restart: it has rejoined).
  Status wait_following(std::size_t node, std::chrono::milliseconds timeout);
  // kill -9; returns once the process is reaped.
  void kill_node(std::size_t node);
  // Starts a killed node again with its data directory.
  Status restart_node(std::size_t node);
  // Stops every node (SIGTERM, then SIGKILL after kStopTimeoutMs).
  void stop();
  // CPU seconds used so far by the nodes running now.
  double cpu_seconds() const;
  pid_t pid(std::size_t node) const;

 protected:
  // `dir` holds each node's data directory and log; start() creates it.
  Cluster(std::string dir, std::size_t nodes);
  // The command line that starts `node`; argv[0] is the binary's path.
  virtual std::vector<std::string> node_argv(std::size_t node) const = 0;
  std::string data_dir(std::size_t node) const;
  std::string log_path(std::size_t node) const;

 private:
  Status spawn(std::size_t node);
  // Fails naming a node that exited although the bench did not stop it.
  Status check_alive();

  std::string dir_;
  std::vector<std::optional<ChildProcess>> nodes_;
};

}  // namespace spofless::bench
