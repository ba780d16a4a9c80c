#pragma once

// The gtest fixture of the db integration tests: a cluster per test, its nodes' logs printed
// when the test failed, and a runner for the command-line tools (redis-cli, redis-benchmark,
// `spofless db transfer-leader`) the tests drive it with.

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/db_client.h"
#include "db/cluster.h"
#include "db/raw_resp.h"
#include "support/subprocess.h"

namespace spofless::proto {
// How gtest shows a RespValue in a failed expectation: redis-cli style (+OK, "v", (nil)).
inline void PrintTo(const RespValue& value, std::ostream* out) { *out << value.to_string(); }
}  // namespace spofless::proto

namespace spofless::db_test {

// Bounds for a loaded 2-core machine; reaching one means a hang, not slowness.
inline constexpr std::chrono::milliseconds kElectionTimeout{30'000};
inline constexpr std::chrono::milliseconds kConvergenceTimeout{60'000};
inline constexpr std::chrono::milliseconds kToolTimeout{60'000};
// Lines of each node's log shown when a test fails.
inline constexpr std::size_t kLogLinesShownOnFailure = 150;
// One request and its reply on a raw connection.
inline constexpr std::chrono::milliseconds kRequestTimeout{30'000};
// Requests per pipelined batch (write_keys, expect_node_serves_keys): well under the server's
// per-connection cap on outstanding requests.
inline constexpr std::size_t kKeysPerBatch = 200;

struct ToolRun {
  test_support::ExitStatus exit;
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs `path args...` to completion within `timeout`.
Result<ToolRun> run_tool(const std::string& path, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = kToolTimeout);

// The path of the spofless binary under test.
const std::string& spofless_binary();

class DbClusterTest : public ::testing::Test {
 protected:
  // Starts a cluster and waits for its leader (leader_).
  void start_cluster(const ClusterOptions& options = {});
  void TearDown() override;

  // Sets leader_ to the leader now (an election on a loaded machine may have moved it).
  void refresh_leader();
  // A client of one node only, e.g. to read what that node serves.
  client::DbClientOptions one_node(int id) const;
  // A raw RESP connection to node `id`; nullptr, with a test failure, when it cannot connect.
  std::unique_ptr<RawConnection> connect_raw(int id);

  // SETs <prefix><i> to value-<i> for every i in [first, first + count) through node `id`,
  // pipelined in batches of kKeysPerBatch, as plain writes: every reply must be +OK.
  void write_keys(int id, const std::string& prefix, std::size_t first, std::size_t count);
  // Node `id` alone serves <prefix><i> = value-<i> for every i in [0, count): linearizable
  // MGETs on that node, so it must have applied them itself.
  void expect_node_serves_keys(int id, const std::string& prefix, std::size_t count);

  std::unique_ptr<Cluster> cluster_;
  int leader_ = 0;
};

}  // namespace spofless::db_test
