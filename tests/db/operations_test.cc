// What an operator does to a running `spofless db` cluster, as docs/db.md ("Admin endpoints",
// "Failover and operations") describes it: readiness, metrics and status from the admin
// server; a SIGTERM to the leader (a rolling restart) that hands leadership over without a
// failed write; and replacing a dead voter: add a learner, promote it, remove the dead one.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "db/fixture.h"
#include "db/load.h"

namespace spofless::db_test {
namespace {

using client::DbClient;
using std::chrono::milliseconds;

constexpr const char* kPromtool = "/usr/bin/promtool";

// The value of the first sample of `name` (with or without labels) in Prometheus text, or
// nullopt when there is none.
std::optional<double> sample(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    if (line[name.size()] != ' ' && line[name.size()] != '{') continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

// `promtool check metrics` on `metrics`: its output, or nullopt when it passed.
std::optional<std::string> promtool_problems(const std::string& metrics) {
  std::string path = ::testing::TempDir() + fmt::format("db_metrics_{}", getpid());
  std::ofstream(path) << metrics;
  test_support::Subprocess::Options options;
  options.stdin_path = path;
  options.stdout_to = test_support::Subprocess::StdoutTo::kStderrPipe;
  auto promtool = test_support::Subprocess::spawn(kPromtool, {"check", "metrics"}, options);
  if (!promtool.is_ok()) return promtool.status().to_string();
  auto exit = (*promtool)->wait_for_exit(kToolTimeout);
  std::remove(path.c_str());
  if (!exit.is_ok()) return exit.status().to_string();
  if (exit->ok()) return std::nullopt;
  return exit->to_string() + "\n" + (*promtool)->output();
}

std::set<int> ids(const nlohmann::json& array) {
  std::set<int> out;
  for (const nlohmann::json& id : array) out.insert(id.get<int>());
  return out;
}

class DbOperationsTest : public DbClusterTest {
 protected:
  // `spofless db <subcommand> --node <node> --server <node `via`'s client address>`.
  Result<ToolRun> admin(const std::string& subcommand, int node, int via) {
    return run_tool(spofless_binary(), {"db", subcommand, "--node", std::to_string(node),
                                        "--server", cluster_->client_address(via).to_string()});
  }

  // Runs a membership subcommand until it succeeds, or until the voters on node `via` show
  // it took effect (an earlier try may have timed out in the tool yet committed). A promotion
  // is refused while the learner lags, so it may take several tries.
  Status change_membership(const std::string& subcommand, int node, int via,
                           const std::function<bool(const std::set<int>&)>& took_effect) {
    std::string last;
    Status s = Cluster::wait_until(
        [&]() -> Result<bool> {
          auto run = admin(subcommand, node, via);
          if (!run.is_ok()) return run.status();
          last = run->output;
          if (run->exit.ok()) return true;
          auto voters = voters_on(via);
          return voters.is_ok() && took_effect(*voters);
        },
        kConvergenceTimeout, fmt::format("spofless db {} --node {}", subcommand, node));
    if (s.is_ok()) return s;
    return Status(s.code(), s.message() + "; last output: " + last);
  }

  Result<std::set<int>> voters_on(int id) {
    auto status = cluster_->role_status(id);
    if (!status.is_ok()) return status.status();
    return ids((*status)["voters"]);
  }
};

// docs/db.md "Admin endpoints": /ready is 200 on every node of a healthy cluster (each can
// serve linearizable reads), and /ready?lag=MS on a replica within MS of the leader; a lag
// that is not a number is refused with the reason.
TEST_F(DbOperationsTest, ReadyIs200OnEveryNodeOfAHealthyCluster) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  const int nodes = static_cast<int>(cluster_->size());
  for (int id = 1; id <= nodes; ++id) {
    for (std::string target : {"/ready", "/ready?lag=5000"}) {
      std::string last;
      Status ready = Cluster::wait_until(
          [&]() -> Result<bool> {
            auto res = cluster_->admin_get(id, target);
            if (!res.is_ok()) return res.status();
            last = fmt::format("{} {}", res->status, res->body);
            return res->status == 200;
          },
          kConvergenceTimeout, fmt::format("node {} {} 200", id, target));
      EXPECT_TRUE(ready.is_ok()) << ready.to_string() << "; last: " << last;
    }
  }
  auto bad_lag = cluster_->admin_get(leader_ % nodes + 1, "/ready?lag=soon");
  ASSERT_TRUE(bad_lag.is_ok()) << bad_lag.status().to_string();
  EXPECT_EQ(bad_lag->status, 503u);
  EXPECT_NE(bad_lag->body.find("lag= needs milliseconds"), std::string::npos) << bad_lag->body;
}

// docs/db.md "Admin endpoints": /metrics is Prometheus text that `promtool check metrics`
// accepts, with the documented families, on every node.
TEST_F(DbOperationsTest, MetricsPassPromtoolAndHoldTheDocumentedFamilies) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: run scripts/setup (it installs the Debian package prometheus)";
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "metrics-", 0, 20));
  ASSERT_TRUE(cluster_->wait_for_convergence(kConvergenceTimeout).is_ok());
  for (int id = 1; id <= static_cast<int>(cluster_->size()); ++id) {
    auto metrics = cluster_->admin_get(id, "/metrics");
    ASSERT_TRUE(metrics.is_ok()) << metrics.status().to_string();
    ASSERT_EQ(metrics->status, 200u);
    auto problems = promtool_problems(metrics->body);
    EXPECT_FALSE(problems.has_value()) << "node " << id << ": promtool: " << *problems;
    for (std::string name :
         {"spofless_db_term", "spofless_db_commit_index", "spofless_wal_fsync_seconds_bucket",
          "spofless_db_leader_changes_total"}) {
      EXPECT_TRUE(sample(metrics->body, name).has_value()) << "node " << id << ": " << name;
    }
    EXPECT_GE(sample(metrics->body, "spofless_db_leader_changes_total").value_or(0), 1)
        << "node " << id << " saw a leader elected";
    EXPECT_GE(sample(metrics->body, "spofless_wal_fsync_seconds_count").value_or(0), 1)
        << "node " << id << " fsynced its log";
  }
}

// docs/db.md "Admin endpoints": /status's role_status names each node's role, the leader, the
// term, the commit and applied indexes, and on the leader every follower with its lag in
// entries and milliseconds. Read once every node agrees on the leader (an election on a loaded
// machine may move it between start-up and the reads) and has heard that 20 writes committed
// (a follower learns the commit index with the leader's next message).
TEST_F(DbOperationsTest, StatusNamesRolesAndTheLeaderListsFollowerLag) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "status-", 0, 20));
  const int nodes = static_cast<int>(cluster_->size());
  std::vector<nlohmann::json> all;
  Status agreed = Cluster::wait_until(
      [&]() -> Result<bool> {
        all.clear();
        for (int id = 1; id <= nodes; ++id) {
          auto status = cluster_->role_status(id);
          if (!status.is_ok()) return status.status();
          all.push_back(*status);
        }
        int leader = all.front().value("leader", 0);
        for (const nlohmann::json& s : all) {
          if (s.value("leader", 0) != leader || leader == 0) return false;
          if (s.value("commit", std::uint64_t{0}) < 20) return false;  // heard of the writes
        }
        leader_ = leader;
        return true;
      },
      kConvergenceTimeout, "every node naming the same leader, the 20 writes committed");
  ASSERT_TRUE(agreed.is_ok()) << agreed.to_string();
  const nlohmann::json& on_leader = all[static_cast<std::size_t>(leader_ - 1)];
  for (int id = 1; id <= nodes; ++id) {
    const nlohmann::json& s = all[static_cast<std::size_t>(id - 1)];
    EXPECT_EQ(s.value("role", ""), id == leader_ ? "leader" : "follower") << s.dump();
    EXPECT_EQ(s.value("term", 0u), on_leader.value("term", 0u)) << s.dump();
    ASSERT_TRUE(s.contains("commit") && s.contains("applied")) << s.dump();
    EXPECT_LE(s["applied"].get<std::uint64_t>(), s["commit"].get<std::uint64_t>());
  }
  ASSERT_TRUE(on_leader["followers"].is_array()) << on_leader.dump();
  std::set<int> listed;
  for (const nlohmann::json& f : on_leader["followers"]) {
    listed.insert(f.value("id", 0));
    EXPECT_TRUE(f.contains("lag_entries") && f["lag_entries"].is_number_unsigned()) << f.dump();
    EXPECT_TRUE(f.contains("lag_ms") && f["lag_ms"].is_number_integer()) << f.dump();
  }
  std::set<int> others;
  for (int id = 1; id <= nodes; ++id) {
    if (id != leader_) others.insert(id);
  }
  EXPECT_EQ(listed, others) << on_leader.dump();
}

// docs/db.md "Planned switchover": on SIGTERM a leader hands leadership to its most
// caught-up voter before it exits, so that a rolling restart costs no election timeout; a
// session client writing through it meanwhile sees no write fail (at worst it retries).
TEST_F(DbOperationsTest, SigtermOnTheLeaderHandsLeadershipOverWithoutFailingAWrite) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  constexpr std::uint64_t kMaxWrites = 100'000;
  std::vector<std::string> failures;  // touched only by the load thread until stop()
  std::uint64_t written = 0;
  LoadThreads load(
      1, [&](std::size_t) { return cluster_->client_options(leader_); },
      [&](std::size_t, std::uint64_t op, DbClient& client) {
        Status s = client.set(fmt::format("sigterm-{}", op), std::to_string(op));
        if (!s.is_ok()) failures.push_back(fmt::format("write {}: {}", op, s.to_string()));
        written = op + 1;
        return s.is_ok();
      },
      kMaxWrites);
  ASSERT_TRUE(load.wait_for_progress(20, kConvergenceTimeout).is_ok());

  const int old_leader = leader_;
  auto exit = cluster_->terminate(old_leader, kConvergenceTimeout);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  EXPECT_TRUE(exit->ok()) << "a drained node exits 0: " << exit->to_string();
  auto next = cluster_->wait_for_leader(kElectionTimeout, old_leader);
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  leader_ = *next;
  ASSERT_TRUE(load.wait_for_progress(20, kConvergenceTimeout).is_ok())
      << "writes go on under the new leader " << leader_;
  load.stop();
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << written
                                << " writes failed; first: " << failures.front();
  std::string log = cluster_->log_text(old_leader);
  EXPECT_NE(log.find(fmt::format("db.transfer_started to={}", leader_)), std::string::npos)
      << "node " << old_leader << " handed leadership to node " << leader_ << " itself";
  EXPECT_NE(log.find("db.drained"), std::string::npos);

  ASSERT_TRUE(cluster_->restart(old_leader).is_ok());
  Status converged = cluster_->wait_for_convergence(kConvergenceTimeout);
  EXPECT_TRUE(converged.is_ok()) << converged.to_string();
}

// docs/db.md "Membership", replacing a dead voter: a node started with --learner is added
// with `spofless db add-learner`, receives the data and serves it, is promoted, and the dead
// voter is removed. The voters are then the rest: two of them are a majority, which proves
// both that the removed node no longer counts and that the promoted one does.
TEST_F(DbOperationsTest, LearnerIsAddedPromotedAndReplacesARemovedVoter) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "before-", 0, 100));
  auto learner = cluster_->start_learner();
  ASSERT_TRUE(learner.is_ok()) << learner.status().to_string();
  const int added = *learner;

  auto run = admin("add-learner", added, leader_);
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  EXPECT_TRUE(run->exit.ok()) << run->exit.to_string() << "\n" << run->output;
  Status serves = Cluster::wait_until(
      [&]() -> Result<bool> {
        DbClient reader(one_node(added));
        auto value = reader.get("before-99");
        if (!value.is_ok()) return value.status();
        return *value == "value-99";
      },
      kConvergenceTimeout, fmt::format("node {} serving the data as a learner", added));
  ASSERT_TRUE(serves.is_ok()) << serves.to_string();
  auto role = cluster_->role_status(added);
  ASSERT_TRUE(role.is_ok()) << role.status().to_string();
  EXPECT_EQ(role->value("role", ""), "learner") << role->dump();
  ASSERT_NO_FATAL_FAILURE(expect_node_serves_keys(added, "before-", 100));

  Status promoted = change_membership("promote", added, leader_,
                                      [&](const std::set<int>& v) { return v.contains(added); });
  ASSERT_TRUE(promoted.is_ok()) << promoted.to_string();
  auto voters = voters_on(leader_);
  ASSERT_TRUE(voters.is_ok()) << voters.status().to_string();
  EXPECT_EQ(*voters, (std::set<int>{1, 2, 3, added}));

  // The two original followers: one dies and is removed, then the other dies too.
  std::vector<int> followers;
  for (int id = 1; id <= 3; ++id) {
    if (id != leader_) followers.push_back(id);
  }
  ASSERT_TRUE(cluster_->kill(followers[0]).is_ok());
  Status removed = change_membership("remove", followers[0], leader_, [&](const std::set<int>& v) {
    return !v.contains(followers[0]);
  });
  ASSERT_TRUE(removed.is_ok()) << removed.to_string();
  std::set<int> rest = {leader_, followers[1], added};
  Status applied = Cluster::wait_until(
      [&]() -> Result<bool> {
        for (int id : rest) {
          auto v = voters_on(id);
          if (!v.is_ok()) return v.status();
          if (*v != rest) return false;
        }
        return true;
      },
      kConvergenceTimeout, "every remaining node with the new voters");
  ASSERT_TRUE(applied.is_ok()) << applied.to_string();

  ASSERT_TRUE(cluster_->kill(followers[1]).is_ok());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "after-", 0, 50));
  ASSERT_NO_FATAL_FAILURE(expect_node_serves_keys(added, "after-", 50));
  ASSERT_NO_FATAL_FAILURE(expect_node_serves_keys(added, "before-", 100));
}

}  // namespace
}  // namespace spofless::db_test
