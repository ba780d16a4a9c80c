#include "db/fixture.h"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

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

void DbClusterTest::refresh_leader() {
  auto leader = cluster_->wait_for_leader(kElectionTimeout);
  ASSERT_TRUE(leader.is_ok()) << leader.status().to_string();
  leader_ = *leader;
}

std::unique_ptr<RawConnection> DbClusterTest::connect_raw(int id) {
  auto conn = RawConnection::connect(cluster_->client_address(id), kRequestTimeout);
  EXPECT_TRUE(conn.is_ok()) << "node " << id << ": " << conn.status().to_string();
  return conn.is_ok() ? std::move(*conn) : nullptr;
}

void DbClusterTest::write_keys(int id, const std::string& prefix, std::size_t first,
                               std::size_t count) {
  auto conn = connect_raw(id);
  ASSERT_NE(conn, nullptr);
  for (std::size_t start = first; start < first + count; start += kKeysPerBatch) {
    std::vector<proto::RespArgs> batch;
    for (std::size_t i = start; i < std::min(first + count, start + kKeysPerBatch); ++i) {
      batch.push_back({"SET", fmt::format("{}{}", prefix, i), fmt::format("value-{}", i)});
    }
    auto replies = conn->pipeline(batch);
    ASSERT_TRUE(replies.is_ok()) << "node " << id << ": " << replies.status().to_string();
    for (std::size_t i = 0; i < replies->size(); ++i) {
      ASSERT_EQ((*replies)[i], proto::resp_simple("OK")) << "node " << id << ": " << batch[i][1];
    }
  }
}

void DbClusterTest::expect_node_serves_keys(int id, const std::string& prefix, std::size_t count) {
  client::DbClient reader(one_node(id));
  std::size_t wrong = 0;
  for (std::size_t start = 0; start < count; start += kKeysPerBatch) {
    client::Command mget = {"MGET"};
    for (std::size_t i = start; i < std::min(count, start + kKeysPerBatch); ++i) {
      mget.push_back(fmt::format("{}{}", prefix, i));
    }
    auto reply = reader.read(mget);
    ASSERT_TRUE(reply.is_ok()) << "node " << id << ": " << reply.status().to_string();
    ASSERT_EQ(reply->elements.size(), mget.size() - 1) << reply->to_string();
    for (std::size_t i = 0; i < reply->elements.size(); ++i) {
      proto::RespValue expected = proto::resp_bulk(fmt::format("value-{}", start + i));
      if (reply->elements[i] != expected && wrong++ == 0) {
        ADD_FAILURE() << "node " << id << ": " << mget[i + 1] << " = "
                      << reply->elements[i].to_string() << ", expected " << expected.to_string();
      }
    }
  }
  EXPECT_EQ(wrong, 0u) << "node " << id << " serves " << wrong << " of " << count << " keys wrong";
}

}  // namespace spofless::db_test
