#pragma once

// A `spofless db` cluster of real processes on 127.0.0.1 for integration tests: free ports,
// a temporary directory with one data directory and one log file per node (removed at the
// end), and the faults a test inflicts on a node by its pid: kill -9, SIGSTOP, SIGCONT,
// SIGTERM, restart with the same data (which a test may have damaged meanwhile). Learners
// started later join the voters it began with. Every wait is a condition polled against a
// deadline.
//
// Node ids are 1..size(). Only processes the cluster started are ever signalled.
// Thread model: one thread (the test's) drives a Cluster; client threads only use the
// addresses it handed out.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "client/db_client.h"
#include "core/result.h"
#include "db/node_process.h"
#include "support/http_client.h"
#include "support/subprocess.h"

namespace spofless::db_test {

struct ClusterOptions {
  std::size_t nodes = 3;
  // A quick clock, so that an election takes about a second: 50 ms x 10 ticks, randomized up
  // to twice that.
  std::uint32_t tick_ms = 50;
  std::uint32_t election_ticks = 10;
  std::vector<std::string> extra_args;  // appended to every node's command line
};

// What one node's /status says under "role_status".
struct NodeStatus {
  int id = 0;
  std::string role;  // "leader", "follower", "candidate", "learner"
  int leader = 0;    // 0: none known
  std::uint64_t term = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::vector<int> voters;  // the membership in force here
};

class Cluster {
 public:
  // Picks ports, creates the directory and starts every node. Does not wait for a leader.
  static Result<std::unique_ptr<Cluster>> start(const ClusterOptions& options);
  ~Cluster();  // kills every node still running and removes the directory
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  std::size_t size() const { return nodes_.size(); }
  const client::HostPort& client_address(int id) const { return node(id).client; }
  // Every node's client address, starting with node `first` (so that client threads can
  // start on different nodes).
  std::vector<client::HostPort> client_addresses(int first = 1) const;
  // A DbClient's options for the whole cluster, starting with node `first`.
  client::DbClientOptions client_options(int first = 1) const;

  // One /status of node `id`. Fails when the node does not answer (stopped, killed, busy).
  Result<NodeStatus> status(int id) const;
  // The same /status's "role_status" object whole (log_lost, voters, followers, ...).
  Result<nlohmann::json> role_status(int id) const;
  // One GET of `target` ("/ready?lag=5000") on node `id`'s admin server, whatever its status.
  Result<test_support::HttpResponse> admin_get(int id, std::string_view target) const;

  // Node `id`'s data directory, and its log file (every run of the node, appended).
  const std::filesystem::path& data_dir(int id) const { return node(id).data; }
  const std::filesystem::path& log_path(int id) const { return node(id).log; }
  // The log file's whole text so far.
  std::string log_text(int id) const;

  // Starts one more node, id size() + 1, on new ports and an empty data directory, with
  // `--learner` and --peers listing the voters start() began with. It is a member once the
  // leader adds it (`spofless db add-learner`). Does not wait for anything.
  Result<int> start_learner();

  // Polls `done` until it holds or `timeout` passes; `what` names the condition for the error,
  // which also carries the last failure `done` returned.
  static Status wait_until(const std::function<Result<bool>()>& done,
                           std::chrono::milliseconds timeout, const std::string& what);

  // Waits until one leader, not `not_id`, is named by a majority of the voters in its
  // membership and is itself leader in the newest term any node reports. Returns its id.
  Result<int> wait_for_leader(std::chrono::milliseconds timeout, int not_id = 0);
  // Waits until node `id` is the leader (after a transfer).
  Status wait_for_leader_to_be(int id, std::chrono::milliseconds timeout);
  // Waits until every running node names the same leader and has applied everything that
  // leader had committed when the wait began.
  Status wait_for_convergence(std::chrono::milliseconds timeout);

  // Faults, each on a node this cluster started, by its pid.
  Status kill(int id);     // SIGKILL, then reaped: the node is down until restart()
  Status pause(int id);    // SIGSTOP: the process is frozen, its sockets stay open
  Status resume(int id);   // SIGCONT
  Status restart(int id);  // REQUIRES: killed. Same id, ports and data directory.
  // SIGTERM (a graceful stop: a leader hands over first), then waits for the node to exit by
  // itself within `timeout` and reaps it; afterwards the node is down until restart().
  Result<test_support::ExitStatus> terminate(int id, std::chrono::milliseconds timeout);
  bool running(int id) const;  // started, not killed (paused counts as running)
  bool paused(int id) const { return node(id).paused; }

  // The last `max_lines` lines of every node's log, each prefixed with its node id.
  std::string logs(std::size_t max_lines) const;

 private:
  struct Node {
    int id = 0;
    client::HostPort client;
    client::HostPort peer;
    boost::asio::ip::tcp::endpoint admin;
    std::filesystem::path data;
    std::filesystem::path log;
    std::unique_ptr<NodeProcess> process;
    bool paused = false;
    bool learner = false;  // started by start_learner(): `--learner`, not in --peers
  };

  Cluster(ClusterOptions options, std::filesystem::path dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  const Node& node(int id) const;
  Node& node(int id);
  std::vector<std::string> arguments(const Node& n) const;
  Status spawn(Node& n);
  // A Node on `ports` (client, peer, admin) with its directory and log under dir_.
  Node make_node(int id, const std::vector<std::uint16_t>& ports, std::size_t first);
  // /status of every running, unpaused node that answers.
  std::vector<NodeStatus> statuses() const;

  ClusterOptions options_;
  std::filesystem::path dir_;
  std::vector<Node> nodes_;
};

}  // namespace spofless::db_test
