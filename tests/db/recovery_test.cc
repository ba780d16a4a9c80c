// A `spofless db` node that comes back with less than it had: a follower that missed more than
// the leader keeps in its log (it gets a snapshot), one whose write-ahead log was damaged in
// the middle (it re-syncs in lost-log mode, raft.md "Lost log"), and one whose log lost its
// last bytes in a crash (a torn tail, cut off quietly). docs/db.md "Storage" is the contract;
// src/storage/README.md describes the files a test damages here.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "db/fixture.h"

namespace spofless::db_test {
namespace {

namespace fs = std::filesystem;

// WAL records: [u32 LE length][u32 LE crc32c][u8 type][payload] (src/storage/README.md).
constexpr std::size_t kRecordHeaderBytes = 9;
constexpr std::size_t kCrcOffsetInHeader = 4;
// Records a segment is walked for at most: far more than these tests write.
constexpr std::size_t kMaxRecordsWalked = 1'000'000;

std::vector<fs::path> files_ending(const fs::path& dir, std::string_view suffix) {
  std::vector<fs::path> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.path().string().ends_with(suffix)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());  // segment names start with their sequence number
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The offset of every record in a segment, by walking the length fields from the start.
std::vector<std::size_t> record_offsets(const std::string& segment) {
  std::vector<std::size_t> offsets;
  std::size_t at = 0;
  while (at + kRecordHeaderBytes <= segment.size() && offsets.size() < kMaxRecordsWalked) {
    std::uint32_t length = 0;
    for (int i = 3; i >= 0; --i) {
      length =
          (length << 8) | static_cast<unsigned char>(segment[at + static_cast<std::size_t>(i)]);
    }
    offsets.push_back(at);
    at += kRecordHeaderBytes + length;
  }
  return offsets;
}

class DbRecoveryTest : public DbClusterTest {
 protected:
  int follower() const { return leader_ % static_cast<int>(cluster_->size()) + 1; }

  fs::path newest_segment(int id) {
    std::vector<fs::path> segments = files_ending(cluster_->data_dir(id), ".wal");
    EXPECT_FALSE(segments.empty()) << "node " << id << " has no .wal file";
    return segments.empty() ? fs::path() : segments.back();
  }

  // Waits until node `id`'s log holds `event` (it logs at start-up, asynchronously to us).
  Status wait_for_log(int id, const std::string& event) {
    return Cluster::wait_until(
        [&]() -> Result<bool> { return cluster_->log_text(id).find(event) != std::string::npos; },
        kConvergenceTimeout, fmt::format("'{}' in node {}'s log", event, id));
  }

  Result<bool> log_lost(int id) {
    auto status = cluster_->role_status(id);
    if (!status.is_ok()) return status.status();
    if (!(*status)["log_lost"].is_boolean()) return unavailable("no log_lost in " + status->dump());
    return (*status)["log_lost"].get<bool>();
  }
};

// docs/db.md "Storage": the log is compacted behind each snapshot, so a follower that was down
// while the leader wrote ten times --snapshot-entries gets the leader's snapshot
// (InstallSnapshot, Raft §7) instead of entries, and then serves every key.
TEST_F(DbRecoveryTest, FollowerBehindTheCompactedLogCatchesUpFromASnapshot) {
  ClusterOptions options;
  options.extra_args = {"--snapshot-entries", "100"};  // the minimum
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  ASSERT_NO_FATAL_FAILURE(refresh_leader());
  const int behind = follower();
  ASSERT_TRUE(cluster_->kill(behind).is_ok());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "snap-", 0, 1000));
  EXPECT_FALSE(files_ending(cluster_->data_dir(leader_), ".snap").empty())
      << "the leader took snapshots";

  ASSERT_TRUE(cluster_->restart(behind).is_ok());
  Status converged = cluster_->wait_for_convergence(kConvergenceTimeout);
  ASSERT_TRUE(converged.is_ok()) << converged.to_string();
  EXPECT_TRUE(wait_for_log(behind, "snapshot.installed").is_ok())
      << "node " << behind << " caught up from a snapshot";
  ASSERT_NO_FATAL_FAILURE(expect_node_serves_keys(behind, "snap-", 1000));
  EXPECT_FALSE(files_ending(cluster_->data_dir(behind), ".snap").empty())
      << "node " << behind << " keeps the snapshot it received";
}

// docs/db.md "Storage" and raft.md "Lost log": a bad checksum in the middle of the log is
// never skipped. The node keeps the entries before it, moves the damaged bytes aside
// (*.corrupt), marks the state with a LOG_LOST file, and neither votes nor serves reads until
// it has re-synced from the leader; then LOG_LOST is gone and it serves every acknowledged key.
// The leader is paused while the damaged node starts, so that the lost-log state is observed
// before any re-sync can end it.
TEST_F(DbRecoveryTest, CorruptionInTheMiddleOfTheLogIsResyncedFromTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "wal-", 0, 300));
  ASSERT_TRUE(cluster_->wait_for_convergence(kConvergenceTimeout).is_ok());
  ASSERT_NO_FATAL_FAILURE(refresh_leader());
  const int damaged = follower();
  auto exit = cluster_->terminate(damaged, kConvergenceTimeout);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();

  fs::path segment = newest_segment(damaged);
  std::string bytes = read_file(segment);
  std::vector<std::size_t> offsets = record_offsets(bytes);
  ASSERT_GE(offsets.size(), 100u) << segment << " holds the 300 writes";
  // A CRC byte of a record in the middle: a mismatch with good records after it.
  std::size_t flipped = offsets[offsets.size() / 2] + kCrcOffsetInHeader;
  bytes[flipped] = static_cast<char>(bytes[flipped] ^ 0x5a);
  std::ofstream(segment, std::ios::binary | std::ios::trunc) << bytes;

  ASSERT_TRUE(cluster_->pause(leader_).is_ok());
  ASSERT_TRUE(cluster_->restart(damaged).is_ok());
  ASSERT_TRUE(wait_for_log(damaged, "wal.corrupt").is_ok());
  Status lost = Cluster::wait_until([&] { return log_lost(damaged); }, kConvergenceTimeout,
                                    fmt::format("node {} reporting log_lost", damaged));
  EXPECT_TRUE(lost.is_ok()) << lost.to_string();
  EXPECT_TRUE(fs::exists(cluster_->data_dir(damaged) / "LOG_LOST"));
  EXPECT_FALSE(files_ending(cluster_->data_dir(damaged), ".corrupt").empty())
      << "the damaged bytes are kept aside";
  auto ready = cluster_->admin_get(damaged, "/ready");
  ASSERT_TRUE(ready.is_ok()) << ready.status().to_string();
  EXPECT_EQ(ready->status, 503u) << ready->body;

  ASSERT_TRUE(cluster_->resume(leader_).is_ok());
  Status resynced = Cluster::wait_until(
      [&]() -> Result<bool> {
        auto lost_now = log_lost(damaged);
        if (!lost_now.is_ok()) return lost_now.status();
        return !*lost_now && !fs::exists(cluster_->data_dir(damaged) / "LOG_LOST");
      },
      kConvergenceTimeout, fmt::format("node {} re-synced, LOG_LOST removed", damaged));
  ASSERT_TRUE(resynced.is_ok()) << resynced.to_string();
  Status converged = cluster_->wait_for_convergence(kConvergenceTimeout);
  ASSERT_TRUE(converged.is_ok()) << converged.to_string();
  ASSERT_NO_FATAL_FAILURE(expect_node_serves_keys(damaged, "wal-", 300));
}

// docs/db.md "Storage": a torn tail (a record cut short by a crash) is truncated, and the node
// restarts normally, not in lost-log mode: what was cut was never acknowledged by it alone.
TEST_F(DbRecoveryTest, TornTailIsTruncatedAndTheNodeRestartsCleanly) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  ASSERT_NO_FATAL_FAILURE(write_keys(leader_, "torn-", 0, 100));
  ASSERT_TRUE(cluster_->wait_for_convergence(kConvergenceTimeout).is_ok());
  ASSERT_NO_FATAL_FAILURE(refresh_leader());
  const int crashed = follower();
  ASSERT_TRUE(cluster_->kill(crashed).is_ok());

  fs::path segment = newest_segment(crashed);
  auto size = fs::file_size(segment);
  ASSERT_GT(size, kRecordHeaderBytes);
  fs::resize_file(segment, size - 3);

  ASSERT_TRUE(cluster_->restart(crashed).is_ok());
  ASSERT_TRUE(wait_for_log(crashed, "wal.torn_tail_truncated").is_ok());
  Status converged = cluster_->wait_for_convergence(kConvergenceTimeout);
  ASSERT_TRUE(converged.is_ok()) << converged.to_string();
  auto lost = log_lost(crashed);
  ASSERT_TRUE(lost.is_ok()) << lost.status().to_string();
  EXPECT_FALSE(*lost);
  EXPECT_FALSE(fs::exists(cluster_->data_dir(crashed) / "LOG_LOST"));
  EXPECT_EQ(cluster_->log_text(crashed).find("wal.corrupt"), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(expect_node_serves_keys(crashed, "torn-", 100));
}

}  // namespace
}  // namespace spofless::db_test
