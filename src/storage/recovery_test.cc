// What open() makes of a damaged data directory: a torn tail is cut off, corruption is
// reported and never skipped, a damaged snapshot falls back to the older one, and a vote
// survives the loss of the WAL record holding it.

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "storage/disk_storage.h"
#include "storage/layout.h"
#include "storage/test_util.h"
#include "storage/wal_format.h"

// Inside the helpers' namespace (storage/test_util.h), so that they need no using-declarations.
namespace spofless::storage::testing {
namespace {

namespace fs = std::filesystem;

void flip_bit(const fs::path& path, std::uint64_t offset) {
  std::string bytes = read_bytes(path);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x08);
  write_bytes(path, bytes);
}

// The offset of the record holding entry `index` in segment `path`.
std::uint64_t offset_of_entry(const fs::path& path, std::uint64_t index) {
  DecodedSegment decoded = decode_segment(read_bytes(path));
  for (const WalRecord& r : decoded.records) {
    const auto* e = std::get_if<raft::Entry>(&r.value);
    if (e && e->index.value == index) return r.offset;
  }
  ADD_FAILURE() << "no entry " << index << " in " << path;
  return 0;
}

fs::path only_segment(const fs::path& dir) {
  std::vector<std::string> segments = files_ending(dir, ".wal");
  EXPECT_EQ(segments.size(), 1u);
  return dir / segments.front();
}

// Entries first..last of term 1 with 60 bytes of data each: a few per 256-byte segment.
std::vector<raft::Entry> padded(std::uint64_t first, std::uint64_t last) {
  std::vector<raft::Entry> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(entry(i, 1, std::string(60, 'e')));
  return out;
}

// Saves entries first..last, one save() each, in `term`.
void save_each(DiskStorage& storage, std::uint64_t first, std::uint64_t last, std::uint64_t term) {
  for (std::uint64_t i = first; i <= last; ++i) {
    ASSERT_TRUE(storage.save(ready_with({entry(i, term)})).is_ok());
  }
}

TEST(Recovery, ATornTailAtEveryByteOfTheLastRecordIsCutOff) {
  TempDir source;
  {
    Opened o = open_dir(source.path());
    save_each(*o.storage, 1, 5, 1);
  }
  fs::path segment = only_segment(source.path());
  std::string whole = read_bytes(segment);
  std::uint64_t last_start = offset_of_entry(segment, 5);
  for (std::uint64_t cut = last_start; cut < whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    TempDir dir;
    write_bytes(dir / segment.filename().string(), whole.substr(0, cut));
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
    EXPECT_EQ(o.state.entries, entries(1, 4, 1));
    EXPECT_EQ(o.report.torn_bytes_truncated, cut - last_start);
    EXPECT_FALSE(o.report.corrupt);
    // Writing goes on where the good records end.
    ASSERT_TRUE(o.storage->save(ready_with({entry(5, 2)})).is_ok());
    o = {};
    Opened again = open_dir(dir.path());
    EXPECT_EQ(again.report.torn_bytes_truncated, 0u);
    EXPECT_EQ(again.state.entries.back(), entry(5, 2));
    EXPECT_EQ(again.state.entries.size(), 5u);
  }
}

TEST(Recovery, ZerosAfterTheLastRecordAreCutOff) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    save_each(*o.storage, 1, 3, 1);
  }
  fs::path segment = only_segment(dir.path());
  write_bytes(segment, read_bytes(segment) + std::string(512, '\0'));
  Opened o = open_dir(dir.path());
  EXPECT_EQ(o.report.torn_bytes_truncated, 512u);
  EXPECT_FALSE(o.report.corrupt);
  EXPECT_EQ(o.state.entries, entries(1, 3, 1));
}

TEST(Recovery, AFlippedBitInAMiddleRecordIsCorruptionAndOnlyTheEntriesBeforeItSurvive) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    save_each(*o.storage, 1, 10, 1);
  }
  fs::path segment = only_segment(dir.path());
  std::uint64_t offset = offset_of_entry(segment, 5);
  flip_bit(segment, offset + kRecordHeaderBytes + 2);
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_TRUE(o.report.corrupt);
  EXPECT_EQ(o.report.corruption.rfind(fmt::format("wal {} offset {}: crc mismatch (stored 0x",
                                                  segment.filename().string(), offset),
                                      0),
            0u)
      << o.report.corruption;
  EXPECT_EQ(o.state.entries, entries(1, 4, 1));
  EXPECT_EQ(files_ending(dir.path(), ".corrupt"),
            std::vector<std::string>{segment.filename().string() + ".corrupt"});
  // The loss is on disk before the repair that hides it.
  EXPECT_TRUE(o.report.log_lost);
  EXPECT_TRUE(fs::exists(dir.path() / kLogLostFileName));

  // The caller re-syncs from the leader: the new entries are saved and read back.
  ASSERT_TRUE(o.storage->save(ready_with(entries(5, 7, 2), hard_state(2, 0, 7))).is_ok());
  o = {};
  Opened again = open_dir(dir.path());
  ASSERT_TRUE(again.status.is_ok()) << again.status.to_string();
  EXPECT_FALSE(again.report.corrupt) << again.report.corruption;
  std::vector<raft::Entry> expected = entries(1, 4, 1);
  for (const raft::Entry& e : entries(5, 7, 2)) expected.push_back(e);
  EXPECT_EQ(again.state.entries, expected);
  EXPECT_EQ(again.state.hard_state, hard_state(2, 0, 7));
  // The repaired log no longer shows the damage, but the loss is remembered until the caller
  // says the re-sync is over; after that a reopen is clean.
  EXPECT_TRUE(again.report.log_lost);
  ASSERT_TRUE(again.storage->clear_log_lost().is_ok());
  EXPECT_FALSE(fs::exists(dir.path() / kLogLostFileName));
  again = {};
  Opened resynced = open_dir(dir.path());
  ASSERT_TRUE(resynced.status.is_ok()) << resynced.status.to_string();
  EXPECT_FALSE(resynced.report.log_lost);
  EXPECT_EQ(resynced.state.entries, expected);
}

// Segments before the last were complete and synced before the next one was created: a bad
// record at the end of one is corruption, not a torn tail.
TEST(Recovery, ABadLastRecordOfAnEarlierSegmentIsCorruption) {
  TempDir dir;
  std::size_t segments = 0;
  {
    Opened o = open_dir(dir.path(), fast_options(256));
    for (const raft::Entry& e : padded(1, 12))
      ASSERT_TRUE(o.storage->save(ready_with({e})).is_ok());
    segments = o.storage->segment_count();
  }
  ASSERT_GE(segments, 3u);
  std::vector<std::string> names = files_ending(dir.path(), ".wal");
  fs::path first = dir / names[0];
  std::string bytes = read_bytes(first);
  DecodedSegment decoded = decode_segment(bytes);
  const auto& last_entry = std::get<raft::Entry>(decoded.records.back().value);
  flip_bit(first, bytes.size() - 1);
  Opened o = open_dir(dir.path(), fast_options(256));
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_TRUE(o.report.corrupt);
  EXPECT_EQ(o.report.torn_bytes_truncated, 0u);
  EXPECT_EQ(o.state.entries, padded(1, last_entry.index.value - 1));
  // The damaged segment's copy and every later segment are moved aside.
  EXPECT_EQ(files_ending(dir.path(), ".corrupt").size(), names.size());
}

TEST(Recovery, AMissingSegmentIsCorruption) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path(), fast_options(256));
    for (const raft::Entry& e : padded(1, 12))
      ASSERT_TRUE(o.storage->save(ready_with({e})).is_ok());
  }
  std::vector<std::string> names = files_ending(dir.path(), ".wal");
  ASSERT_GE(names.size(), 3u);
  fs::remove(dir / names[1]);
  Opened o = open_dir(dir.path(), fast_options(256));
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_TRUE(o.report.corrupt);
  EXPECT_EQ(o.report.corruption,
            fmt::format("wal {}: follows sequence number 1: a segment is missing", names[2]));
  std::optional<SegmentName> second = parse_segment_name(names[1]);
  EXPECT_EQ(o.state.entries, padded(1, second->first.value - 1));
}

TEST(Recovery, AFlippedBitInTheNewestSnapshotFallsBackToTheOlderOne) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 20, 1), hard_state(1, 0, 20))).is_ok());
    ASSERT_TRUE(o.storage->save_snapshot(snapshot(10, 1, "at 10")).is_ok());
    ASSERT_TRUE(o.storage->save_snapshot(snapshot(15, 1, "at 15")).is_ok());
  }
  std::string newest = file_name(SnapshotName{raft::Term{1}, raft::LogIndex{15}});
  flip_bit(dir / newest, 30);
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_EQ(o.report.snapshot_problem.rfind(newest + ": crc mismatch (stored 0x", 0), 0u)
      << o.report.snapshot_problem;
  EXPECT_FALSE(o.report.corrupt);
  EXPECT_EQ(o.state.snapshot, snapshot(10, 1, "at 10"));
  EXPECT_EQ(o.state.entries, entries(11, 20, 1));
  EXPECT_TRUE(fs::exists(dir / (newest + ".corrupt")));
}

// A snapshot from the leader replaced the log; if its file is then found damaged, the older
// snapshot cannot be used: the WAL no longer reaches back to it.
TEST(Recovery, ADamagedSnapshotTheWalDoesNotReachBackFromIsDataLoss) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 5, 1), hard_state(1, 0, 5))).is_ok());
    ASSERT_TRUE(o.storage->save_snapshot(snapshot(3, 1, "at 3")).is_ok());
    raft::Ready install = ready_with({}, hard_state(2, 0, 50));
    install.snapshot = snapshot(50, 2, "at 50");
    ASSERT_TRUE(o.storage->save(install).is_ok());
  }
  std::string newest = file_name(SnapshotName{raft::Term{2}, raft::LogIndex{50}});
  flip_bit(dir / newest, 25);
  Opened o = open_dir(dir.path());
  EXPECT_EQ(o.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(o.status.message().find("snapshot " + newest + " is corrupt"), std::string::npos)
      << o.status.message();
  EXPECT_NE(o.status.message().find("entries 4..50 are lost"), std::string::npos)
      << o.status.message();
  EXPECT_TRUE(fs::exists(dir / newest)) << "a failed open() changes nothing";
}

// Two leaders in one term need a server that voted twice: a vote must outlive the WAL
// record that holds it (Raft §5.2, Figure 2's persistent votedFor).
TEST(Recovery, AVoteSurvivesTheLossOfItsWalRecord) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 2, 1))).is_ok());
    ASSERT_TRUE(o.storage->save(ready_with(entries(3, 4, 1), hard_state(5, 2, 0))).is_ok());
  }
  fs::path segment = only_segment(dir.path());
  flip_bit(segment, offset_of_entry(segment, 3) + kRecordHeaderBytes + 1);
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_TRUE(o.report.corrupt);
  EXPECT_EQ(o.state.entries, entries(1, 2, 1));
  EXPECT_EQ(o.state.hard_state.term, raft::Term{5});
  EXPECT_EQ(o.state.hard_state.vote, raft::NodeId{2});
  o = {};
  // The repaired WAL records the recovered vote too.
  fs::remove(dir / std::string(kVoteFileName));
  Opened again = open_dir(dir.path());
  EXPECT_EQ(again.state.hard_state, hard_state(5, 2, 0));
}

TEST(Recovery, ADamagedVoteFileIsRebuiltFromAnIntactWal) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 2, 3), hard_state(3, 1, 1))).is_ok());
  }
  flip_bit(dir / std::string(kVoteFileName), 12);
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_EQ(o.report.vote_problem.rfind("vote: crc mismatch", 0), 0u) << o.report.vote_problem;
  EXPECT_EQ(o.state.hard_state, hard_state(3, 1, 1));
  o = {};
  Opened again = open_dir(dir.path());
  EXPECT_TRUE(again.report.vote_problem.empty());
  EXPECT_EQ(again.state.hard_state, hard_state(3, 1, 1));
}

TEST(Recovery, ADamagedVoteFileWithADamagedWalIsDataLoss) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 2, 3), hard_state(3, 1, 1))).is_ok());
    ASSERT_TRUE(o.storage->save(ready_with(entries(3, 4, 3))).is_ok());
  }
  fs::path segment = only_segment(dir.path());
  flip_bit(segment, offset_of_entry(segment, 1) + kRecordHeaderBytes + 1);
  flip_bit(dir / std::string(kVoteFileName), 12);
  Opened o = open_dir(dir.path());
  EXPECT_EQ(o.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(o.status.message().find("the vote this server gave may be lost"), std::string::npos)
      << o.status.message();
}

// A crash during a snapshot install, after the snapshot file was written and before the WAL
// recorded the new log start: the snapshot (committed, from the leader) wins over the
// conflicting entries, and writing continues after it.
TEST(Recovery, ASnapshotThatConflictsWithTheWalReplacesItsEntries) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 8, 1), hard_state(2, 0, 2))).is_ok());
  }
  raft::Snapshot leaders = snapshot(6, 2, "leader's state at 6");
  write_bytes(dir / file_name(SnapshotName{leaders.term, leaders.index}),
              encode_snapshot_file(leaders).value());
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_EQ(o.state.snapshot, leaders);
  EXPECT_TRUE(o.state.entries.empty());
  ASSERT_TRUE(o.storage->save(ready_with(entries(7, 9, 2))).is_ok());
  o = {};
  Opened again = open_dir(dir.path());
  EXPECT_EQ(again.state.snapshot, leaders);
  EXPECT_EQ(again.state.entries, entries(7, 9, 2));
}

TEST(Recovery, ASnapshotBeyondTheWalIsUsedAndTheLogContinuesAfterIt) {
  TempDir dir;
  {
    Opened o = open_dir(dir.path());
    ASSERT_TRUE(o.storage->save(ready_with(entries(1, 3, 1))).is_ok());
  }
  raft::Snapshot leaders = snapshot(40, 2, "at 40");
  write_bytes(dir / file_name(SnapshotName{leaders.term, leaders.index}),
              encode_snapshot_file(leaders).value());
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_TRUE(o.state.entries.empty());
  ASSERT_TRUE(o.storage->save(ready_with(entries(41, 42, 2))).is_ok());
  o = {};
  Opened again = open_dir(dir.path());
  ASSERT_TRUE(again.status.is_ok()) << again.status.to_string();
  EXPECT_EQ(again.state.entries, entries(41, 42, 2));
}

TEST(Recovery, LeftoverTmpFilesAreRemovedAndStrangeSegmentNamesRefused) {
  TempDir dir;
  write_bytes(dir / "vote.tmp", "half a vote");
  Opened o = open_dir(dir.path());
  ASSERT_TRUE(o.status.is_ok()) << o.status.to_string();
  EXPECT_FALSE(fs::exists(dir / "vote.tmp"));
  o = {};
  write_bytes(dir / "segment-1.wal", "");
  Opened strange = open_dir(dir.path());
  EXPECT_EQ(strange.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(strange.status.message().find("segment-1.wal: not a segment name"), std::string::npos)
      << strange.status.message();
}

}  // namespace
}  // namespace spofless::storage::testing
