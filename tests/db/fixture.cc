#include "db/fixture.h"

#include <iostream>

namespace spofless::db_test {

const std::string& spofless_binary() {
  static const std::string path = SPOFLESS_BINARY;
  return path;
}

Result<ToolRun> run_tool(const std::string& path, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout) {
  test_support::Subprocess::Options options;
  options.stdout_to = test_support::Subprocess::StdoutTo::kStderrPipe;
  auto process = test_support::Subprocess::spawn(path, args, options);
  if (!process.is_ok()) return process.status();
  auto exit = (*process)->wait_for_exit(timeout);
  if (!exit.is_ok()) return exit.status();
  return ToolRun{*exit, (*process)->output()};
}

void DbClusterTest::start_cluster(const ClusterOptions& options) {
  auto cluster = Cluster::start(options);
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  cluster_ = std::move(*cluster);
  auto leader = cluster_->wait_for_leader(kElectionTimeout);
  ASSERT_TRUE(leader.is_ok()) << leader.status().to_string();
  leader_ = *leader;
  Status converged = cluster_->wait_for_convergence(kConvergenceTimeout);
  ASSERT_TRUE(converged.is_ok()) << converged.to_string();
}

void DbClusterTest::TearDown() {
  if (HasFailure() && cluster_ != nullptr) {
    std::cerr << cluster_->logs(kLogLinesShownOnFailure);
  }
  cluster_.reset();
}

client::DbClientOptions DbClusterTest::one_node(int id) const {
  client::DbClientOptions options;
  options.nodes = {cluster_->client_address(id)};
  return options;
}

}  // namespace spofless::db_test
