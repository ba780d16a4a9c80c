#pragma once

// The gtest fixture of the db integration tests: a cluster per test, its nodes' logs printed
// when the test failed, and a runner for the command-line tools (redis-cli, redis-benchmark,
// `spofless db transfer-leader`) the tests drive it with.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/db_client.h"
#include "db/cluster.h"
#include "support/subprocess.h"

namespace spofless::db_test {

// Bounds for a loaded 2-core machine; reaching one means a hang, not slowness.
inline constexpr std::chrono::milliseconds kElectionTimeout{30'000};
inline constexpr std::chrono::milliseconds kConvergenceTimeout{60'000};
inline constexpr std::chrono::milliseconds kToolTimeout{60'000};
// Lines of each node's log shown when a test fails.
inline constexpr std::size_t kLogLinesShownOnFailure = 150;

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

  // A client of one node only, e.g. to read what that node serves.
  client::DbClientOptions one_node(int id) const;

  std::unique_ptr<Cluster> cluster_;
  int leader_ = 0;
};

}  // namespace spofless::db_test
