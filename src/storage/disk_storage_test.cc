// DiskStorage across reopen: what save() and save_snapshot() persisted is what open() reads
// back, with the same contract as raft::persist() (raft/memory_storage.h), checked against
// it as the oracle.

#include "storage/disk_storage.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "raft/memory_storage.h"
#include "storage/test_util.h"

// Inside the helpers' namespace (storage/test_util.h), so that they need no using-declarations.
namespace spofless::storage::testing {
namespace {

void expect_same(const raft::PersistentState& got, const raft::PersistentState& want) {
  EXPECT_EQ(got.hard_state, want.hard_state);
  EXPECT_EQ(got.snapshot, want.snapshot);
  EXPECT_EQ(got.entries, want.entries);
}

TEST(DiskStorage, AnEmptyDirectoryOpensEmpty) {
  TempDir dir;
  Opened o = open_dir(dir / "data");
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  expect_same(o.state, raft::PersistentState{});
  EXPECT_FALSE(o.report.corrupt);
  EXPECT_EQ(o.storage->segment_count(), 1u);
}

TEST(DiskStorage, EntriesHardStateAndSnapshotsSurviveReopen) {
  TempDir dir;
  raft::PersistentState oracle;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
    std::vector<raft::Ready> readies = {ready_with(entries(1, 3, 1), hard_state(1, 1, 0)),
                                        ready_with(entries(4, 5, 1), hard_state(1, 1, 4)),
                                        ready_with({}, hard_state(2, 3, 5))};
    for (const raft::Ready& rd : readies) {
      ASSERT_TRUE(o.storage->save(rd).is_ok());
      raft::persist(oracle, rd);
    }
    raft::Snapshot snap = snapshot(4, 1, "state at 4");
    ASSERT_TRUE(o.storage->save_snapshot(snap).is_ok());
    raft::persist_compaction(oracle, snap);
  }
  Opened again = open_dir(dir.path());
  ASSERT_TRUE(again.status.is_ok()) << again.status.to_string();
  expect_same(again.state, oracle);
  EXPECT_EQ(again.report.torn_bytes_truncated, 0u);
  EXPECT_FALSE(again.report.corrupt);
}

// Raft §5.3: a follower's conflicting entries are replaced by the leader's.
TEST(DiskStorage, AFollowersTruncatedLogIsReplaced) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 10, 1))).is_ok());
    ASSERT_TRUE(o.storage->save(ready_with(entries(6, 8, 2))).is_ok());
  }
  Opened again = open_dir(dir.path());
  ASSERT_TRUE(again.status.is_ok()) << again.status.to_string();
  std::vector<raft::Entry> expected = entries(1, 5, 1);
  for (const raft::Entry& e : entries(6, 8, 2)) expected.push_back(e);
  EXPECT_EQ(again.state.entries, expected);
  // Writing continues after the replaced entries.
  ASSERT_TRUE(again.storage->save(ready_with({entry(9, 2)})).is_ok());
  again = {};
  Opened third = open_dir(dir.path());
  expected.push_back(entry(9, 2));
  EXPECT_EQ(third.state.entries, expected);
}

TEST(DiskStorage, SaveRefusesEntriesThatDoNotContinueTheLog) {
  TempDir dir;
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.storage->save(ready_with(entries(1, 3, 2))).is_ok());
  Status gap = o.storage->save(ready_with({entry(5, 2)}));
  EXPECT_EQ(gap.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gap.message(), "entries[0]: index 5 term 2 does not continue the log (last index 3)");
  Status falling = o.storage->save(ready_with({entry(4, 2), entry(5, 1)}));
  EXPECT_EQ(falling.code(), StatusCode::kInvalidArgument);
  // Refusals write nothing and do not stop later saves.
  ASSERT_TRUE(o.storage->save(ready_with({entry(4, 2)})).is_ok());
  o = {};
  EXPECT_EQ(open_dir(dir.path()).state.entries.size(), 4u);
}

// 20 entries of ~1 KiB with 4 KiB segments: several segments; two compactions delete the
// segments wholly covered by the older snapshot kept, and keep two snapshot files.
TEST(DiskStorage, SegmentsRollOverAndCompactionDeletesCoveredOnes) {
  TempDir dir;
  Opened o = open_dir(dir.path(), fast_options(4096));
  raft::PersistentState oracle;
  for (std::uint64_t i = 1; i <= 20; ++i) {
    raft::Ready rd = ready_with({entry(i, 1, std::string(1000, 'a'))}, hard_state(1, 1, i));
    ASSERT_TRUE(o.storage->save(rd).is_ok());
    raft::persist(oracle, rd);
  }
  std::size_t rolled = o.storage->segment_count();
  EXPECT_GE(rolled, 5u);
  std::uint64_t bytes_before = o.storage->wal_bytes();

  // One snapshot: nothing deleted, so that an older fallback (none: index 0) stays usable.
  ASSERT_TRUE(o.storage->save_snapshot(snapshot(10, 1, "at 10")).is_ok());
  EXPECT_EQ(o.storage->segment_count(), rolled);
  ASSERT_TRUE(o.storage->save_snapshot(snapshot(18, 1, "at 18")).is_ok());
  raft::persist_compaction(oracle, snapshot(18, 1, "at 18"));
  EXPECT_LT(o.storage->segment_count(), rolled);
  EXPECT_LT(o.storage->wal_bytes(), bytes_before);
  ASSERT_TRUE(o.storage->save_snapshot(snapshot(19, 1, "at 19")).is_ok());
  raft::persist_compaction(oracle, snapshot(19, 1, "at 19"));
  EXPECT_EQ(files_ending(dir.path(), ".snap"),
            (std::vector<std::string>{"0000000000000001-0000000000000012.snap",
                                      "0000000000000001-0000000000000013.snap"}));
  std::vector<std::string> segments = files_ending(dir.path(), ".wal");
  EXPECT_EQ(segments.size(), o.storage->segment_count());
  o = {};

  Opened again = open_dir(dir.path(), fast_options(4096));
  ASSERT_TRUE(again.status.is_ok()) << again.status.to_string();
  expect_same(again.state, oracle);
}

// A snapshot from the leader replaces the whole log (Raft §7): older segments are deleted.
TEST(DiskStorage, AnInstalledSnapshotStartsAFreshLog) {
  TempDir dir;
  raft::PersistentState oracle;
  Opened o = open_dir(dir.path(), fast_options(4096));
  std::vector<raft::Ready> readies;
  readies.push_back(ready_with(entries(1, 30, 1), hard_state(1, 0, 3)));
  raft::Ready install = ready_with({}, hard_state(3, 0, 50));
  install.snapshot = snapshot(50, 3, "leader's state at 50");
  readies.push_back(install);
  readies.push_back(ready_with(entries(51, 52, 3), hard_state(3, 0, 52)));
  for (const raft::Ready& rd : readies) {
    ASSERT_TRUE(o.storage->save(rd).is_ok());
    raft::persist(oracle, rd);
  }
  EXPECT_EQ(o.storage->segment_count(), 1u);
  o = {};
  Opened again = open_dir(dir.path());
  ASSERT_TRUE(again.status.is_ok()) << again.status.to_string();
  expect_same(again.state, oracle);
}

TEST(DiskStorage, AnInstalledSnapshotMayCarryTheEntriesAfterIt) {
  TempDir dir;
  raft::PersistentState oracle;
  Opened o = open_dir(dir.path());
  raft::Ready rd = ready_with(entries(1, 5, 1));
  ASSERT_TRUE(o.storage->save(rd).is_ok());
  raft::persist(oracle, rd);
  raft::Ready install = ready_with(entries(9, 10, 2), hard_state(2, 0, 8));
  install.snapshot = snapshot(8, 2, "at 8");
  ASSERT_TRUE(o.storage->save(install).is_ok());
  raft::persist(oracle, install);
  raft::Ready wrong = ready_with(entries(7, 7, 2));
  wrong.snapshot = snapshot(8, 2, "at 8");
  EXPECT_EQ(o.storage->save(wrong).code(), StatusCode::kInvalidArgument);
  o = {};
  expect_same(open_dir(dir.path()).state, oracle);
}

TEST(DiskStorage, AnotherProcessCannotOpenALockedDirectory) {
  TempDir dir;
  Opened first = open_dir(dir.path());
  ASSERT_TRUE(first.status.is_ok());
  // flock() locks belong to the open file description, so a second open() in this process
  // conflicts just as another process would.
  Opened second = open_dir(dir.path());
  EXPECT_EQ(second.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status.message().find("LOCK: held by another process"), std::string::npos);
  first = {};
  EXPECT_TRUE(open_dir(dir.path()).status.is_ok());
}

TEST(DiskStorage, OptionsOutOfRangeAreRefused) {
  TempDir dir;
  EXPECT_EQ(open_dir(dir.path(), fast_options(0)).status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(open_dir(dir.path(), fast_options(limits::kWalSegmentBytes + 1)).status.code(),
            StatusCode::kInvalidArgument);
}

TEST(DiskStorage, SaveSnapshotBeyondTheLogIsRefusedAndAnOlderOneIgnored) {
  TempDir dir;
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.storage->save(ready_with(entries(1, 5, 1))).is_ok());
  EXPECT_EQ(o.storage->save_snapshot(snapshot(6, 1, "")).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(o.storage->save_snapshot(snapshot(4, 1, "at 4")).is_ok());
  ASSERT_TRUE(o.storage->save_snapshot(snapshot(3, 1, "at 3")).is_ok());
  EXPECT_EQ(files_ending(dir.path(), ".snap").size(), 1u);
}

// One fsync of the WAL per save(), however many entries it carries (group commit).
TEST(DiskStorage, OneSaveIsOneWalFsync) {
  TempDir dir;
  Opened o = open_dir(dir.path(), StorageOptions{limits::kWalSegmentBytes, true});
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  int fsyncs = 0;
  o.storage->on_fsync([&](std::chrono::nanoseconds) { ++fsyncs; });
  ASSERT_TRUE(o.storage->save(ready_with(entries(1, 64, 1))).is_ok());
  EXPECT_EQ(fsyncs, 1);
  // A new term also rewrites the vote file: its own fsync, and the directory's.
  fsyncs = 0;
  ASSERT_TRUE(o.storage->save(ready_with(entries(65, 65, 2), hard_state(2, 1, 64))).is_ok());
  EXPECT_EQ(fsyncs, 3);
  fsyncs = 0;
  ASSERT_TRUE(o.storage->save(ready_with(entries(66, 66, 2), hard_state(2, 1, 65))).is_ok());
  EXPECT_EQ(fsyncs, 1);
}

// Not a timing assertion: prints what a group commit costs on this machine's disk.
TEST(DiskStorage, MeasureFsyncedSaveOf64Entries) {
  TempDir dir;
  Opened o = open_dir(dir.path(), StorageOptions{limits::kWalSegmentBytes, true});
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  constexpr int kRounds = 50;
  std::vector<double> micros;
  std::uint64_t next = 1;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<raft::Entry> batch;
    for (int i = 0; i < 64; ++i, ++next) batch.push_back(entry(next, 1, std::string(100, 'v')));
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(o.storage->save(ready_with(std::move(batch), hard_state(1, 1, next - 1))).is_ok());
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(micros.begin(), micros.end());
  std::printf(
      "save() of 64 x 100-byte entries with fsync, %d rounds: p50 %.0f us, p90 %.0f us, "
      "max %.0f us\n",
      kRounds, micros[kRounds / 2], micros[kRounds * 9 / 10], micros.back());
}

}  // namespace
}  // namespace spofless::storage::testing
