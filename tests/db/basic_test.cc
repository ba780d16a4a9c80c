// A three-node `spofless db` cluster of real processes, spoken to as Redis clients speak to
// Redis: any node takes any command (a follower forwards writes to the leader and serves
// linearizable reads itself), redis-cli and redis-benchmark work against it, and leadership
// moves on request without failing a write.

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "db/fixture.h"
#include "db/load.h"

namespace spofless::db_test {
namespace {

using client::DbClient;
using proto::RespValue;
using std::chrono::milliseconds;

constexpr const char* kRedisCli = "/usr/bin/redis-cli";
constexpr const char* kRedisBenchmark = "/usr/bin/redis-benchmark";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

class DbBasicTest : public DbClusterTest {
 protected:
  // One command on node `id` as it is, without retries: what redis-cli would get.
  RespValue on(int id, const std::vector<std::string>& argv) {
    DbClient client(one_node(id));
    auto reply = client.call(argv);
    EXPECT_TRUE(reply.is_ok()) << "node " << id << ": " << reply.status().to_string();
    return reply.is_ok() ? *reply : proto::resp_error("(no reply)");
  }

  ToolRun redis_cli(int id, const std::vector<std::string>& command) {
    std::vector<std::string> args = {"-h", "127.0.0.1", "-p",
                                     std::to_string(cluster_->client_address(id).port)};
    args.insert(args.end(), command.begin(), command.end());
    auto run = run_tool(kRedisCli, args);
    EXPECT_TRUE(run.is_ok()) << run.status().to_string();
    if (!run.is_ok()) return {};
    EXPECT_TRUE(run->exit.ok()) << "redis-cli " << fmt::format("{}", fmt::join(command, " "))
                                << ": " << run->exit.to_string() << "\n"
                                << run->output;
    return *run;
  }
};

TEST_F(DbBasicTest, EveryNodeTakesWritesAndServesLinearizableReads) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  const int nodes = static_cast<int>(cluster_->size());
  for (int id = 1; id <= nodes; ++id) {
    EXPECT_EQ(on(id, {"SET", fmt::format("key-{}", id), fmt::format("value-{}", id)}),
              proto::resp_simple("OK"))
        << "node " << id << (id == leader_ ? " (leader)" : " (follower: forwards)");
  }
  // Linearizable: a write acknowledged by any node is visible from every node at once.
  for (int reader = 1; reader <= nodes; ++reader) {
    for (int writer = 1; writer <= nodes; ++writer) {
      EXPECT_EQ(on(reader, {"GET", fmt::format("key-{}", writer)}),
                proto::resp_bulk(fmt::format("value-{}", writer)))
          << "node " << reader << " reads node " << writer << "'s write";
    }
  }
  for (int id = 1; id <= nodes; ++id) {
    EXPECT_EQ(on(id, {"INCR", "counter"}), proto::resp_integer(id)) << "node " << id;
  }
  int follower = leader_ % nodes + 1;
  EXPECT_EQ(on(follower, {"MSET", "a", "1", "b", "2"}), proto::resp_simple("OK"));
  for (int id = 1; id <= nodes; ++id) {
    EXPECT_EQ(on(id, {"MGET", "a", "b", "missing"}),
              proto::resp_array({proto::resp_bulk("1"), proto::resp_bulk("2"), proto::resp_null()}))
        << "node " << id;
  }
}

TEST_F(DbBasicTest, RedisCliTalksToEveryNode) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  const int nodes = static_cast<int>(cluster_->size());
  int follower = leader_ % nodes + 1;
  for (int id = 1; id <= nodes; ++id) EXPECT_EQ(redis_cli(id, {"PING"}).output, "PONG\n");
  EXPECT_EQ(redis_cli(follower, {"SET", "greeting", "hello"}).output, "OK\n");
  for (int id = 1; id <= nodes; ++id) {
    EXPECT_EQ(redis_cli(id, {"GET", "greeting"}).output, "hello\n") << "node " << id;
  }
  for (int id = 1; id <= nodes; ++id) {
    std::string info = redis_cli(id, {"INFO", "replication"}).output;
    std::string role = id == leader_ ? "role:master" : "role:slave";
    EXPECT_NE(info.find(role), std::string::npos) << "node " << id << ":\n" << info;
  }
}

TEST_F(DbBasicTest, RedisBenchmarkRunsCleanAgainstTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  auto run =
      run_tool(kRedisBenchmark,
               {"-h", "127.0.0.1", "-p", std::to_string(cluster_->client_address(leader_).port),
                "-t", "set,get,incr,mset", "-P", "16", "-n", "20000", "-q"},
               milliseconds(240'000));
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  EXPECT_TRUE(run->exit.ok()) << run->exit.to_string() << "\n" << run->output;
  EXPECT_EQ(run->output.find("ERR"), std::string::npos) << run->output;
  EXPECT_EQ(lower(run->output).find("error"), std::string::npos) << run->output;
  // -q ends each test with a "NAME: N requests per second" line (after \r-separated progress).
  for (std::string test : {"SET", "GET", "INCR", "MSET \\(10 keys\\)"}) {
    std::regex done("(^|[\r\n])" + test + ": [0-9.]+ requests per second");
    EXPECT_TRUE(std::regex_search(run->output, done)) << test << " completed\n" << run->output;
  }
}

// `spofless db transfer-leader` hands leadership to a caught-up voter (Raft thesis §3.10), and
// a client writing through it sees no write fail: at worst it retries.
TEST_F(DbBasicTest, TransferLeaderMovesLeadershipWithoutFailingAWrite) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  constexpr std::uint64_t kMaxWrites = 100'000;
  std::vector<std::string> failures;  // touched only by the load thread until stop()
  std::uint64_t written = 0;
  LoadThreads load(
      1, [&](std::size_t) { return cluster_->client_options(); },
      [&](std::size_t, std::uint64_t op, DbClient& client) {
        Status s = client.set(fmt::format("transfer-{}", op), std::to_string(op));
        if (!s.is_ok()) failures.push_back(fmt::format("write {}: {}", op, s.to_string()));
        written = op + 1;
        return s.is_ok();
      },
      kMaxWrites);
  ASSERT_TRUE(load.wait_for_progress(20, kConvergenceTimeout).is_ok());

  const int nodes = static_cast<int>(cluster_->size());
  for (int step = 1; step < nodes; ++step) {
    int target = leader_ % nodes + 1;
    auto run =
        run_tool(spofless_binary(), {"db", "transfer-leader", "--to", std::to_string(target),
                                     "--server", cluster_->client_address(target).to_string()});
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    EXPECT_TRUE(run->exit.ok()) << run->exit.to_string() << "\n" << run->output;
    Status moved = cluster_->wait_for_leader_to_be(target, kElectionTimeout);
    ASSERT_TRUE(moved.is_ok()) << moved.to_string();
    leader_ = target;
    ASSERT_TRUE(load.wait_for_progress(20, kConvergenceTimeout).is_ok())
        << "writes go on under the new leader " << target;
  }
  load.stop();
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << written
                                << " writes failed; first: " << failures.front();
}

}  // namespace
}  // namespace spofless::db_test
