// The pure parts of the storage: record decoding (decode_segment), log rebuilding
// (WalReplay), and the names and small files of the data directory (layout.h).

#include "storage/wal_format.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/test_util.h"
#include "storage/wal_replay.h"

namespace spofless::storage {
namespace {

using testing::entry;
using testing::hard_state;

std::string segment_of(const std::vector<RecordValue>& records) {
  std::string out;
  for (const RecordValue& r : records) append_record(out, r);
  return out;
}

std::vector<RecordValue> sample_records() {
  return {hard_state(1, 2, 0),
          entry(1, 1),
          entry(2, 1, std::string(100, 'x')),
          LogStart{raft::LogIndex{7}, raft::Term{3}},
          entry(8, 3),
          hard_state(3, 0, 8)};
}

TEST(DecodeSegment, ReadsBackEveryRecordWithItsOffset) {
  std::vector<RecordValue> records = sample_records();
  std::string bytes = segment_of(records);
  DecodedSegment decoded = decode_segment(bytes);
  EXPECT_EQ(decoded.end, SegmentEnd::kClean) << decoded.problem;
  EXPECT_EQ(decoded.valid_bytes, bytes.size());
  ASSERT_EQ(decoded.records.size(), records.size());
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(decoded.records[i].value, records[i]) << "record " << i;
    EXPECT_EQ(decoded.records[i].offset, offset);
    offset += record_size(records[i]);
  }
}

TEST(DecodeSegment, EmptyIsClean) {
  DecodedSegment decoded = decode_segment("");
  EXPECT_EQ(decoded.end, SegmentEnd::kClean);
  EXPECT_TRUE(decoded.records.empty());
}

// A crash during an append leaves any prefix of the last record.
TEST(DecodeSegment, ALastRecordCutShortAnywhereIsATornTail) {
  std::vector<RecordValue> records = sample_records();
  std::string whole = segment_of(records);
  std::size_t last_start = whole.size() - record_size(records.back());
  for (std::size_t cut = last_start + 1; cut < whole.size(); ++cut) {
    DecodedSegment decoded = decode_segment(std::string_view(whole).substr(0, cut));
    EXPECT_EQ(decoded.end, SegmentEnd::kTorn) << "cut at " << cut;
    EXPECT_EQ(decoded.valid_bytes, last_start);
    EXPECT_EQ(decoded.records.size(), records.size() - 1);
    EXPECT_NE(decoded.problem.find("cut short"), std::string::npos) << decoded.problem;
  }
}

TEST(DecodeSegment, ZerosAfterTheLastRecordAreATornTail) {
  std::string bytes = segment_of(sample_records());
  std::size_t good = bytes.size();
  bytes += std::string(4096, '\0');
  DecodedSegment decoded = decode_segment(bytes);
  EXPECT_EQ(decoded.end, SegmentEnd::kTorn);
  EXPECT_EQ(decoded.valid_bytes, good);
  EXPECT_EQ(decoded.records.size(), sample_records().size());
}

TEST(DecodeSegment, ABadCrcOnTheLastRecordFollowedByZerosIsATornTail) {
  std::vector<RecordValue> records = sample_records();
  std::string bytes = segment_of(records);
  std::size_t last_start = bytes.size() - record_size(records.back());
  bytes.back() ^= 0x01;
  bytes += std::string(100, '\0');
  DecodedSegment decoded = decode_segment(bytes);
  EXPECT_EQ(decoded.end, SegmentEnd::kTorn);
  EXPECT_EQ(decoded.valid_bytes, last_start);
}

TEST(DecodeSegment, ABadCrcWithDataAfterItIsCorruption) {
  std::vector<RecordValue> records = sample_records();
  std::string bytes = segment_of(records);
  std::size_t second = record_size(records[0]);
  bytes[second + kRecordHeaderBytes + 1] ^= 0x10;  // in entry 1's payload
  DecodedSegment decoded = decode_segment(bytes);
  EXPECT_EQ(decoded.end, SegmentEnd::kCorrupt);
  EXPECT_EQ(decoded.valid_bytes, second);
  EXPECT_EQ(decoded.records.size(), 1u);
  EXPECT_EQ(decoded.problem.rfind(fmt::format("offset {}: crc mismatch (stored 0x", second), 0), 0u)
      << decoded.problem;
}

TEST(DecodeSegment, AnOversizedLengthIsCorruptionNotAnAllocation) {
  std::string bytes;
  put_le<std::uint32_t>(bytes, static_cast<std::uint32_t>(limits::kWalMaxRecordBytes + 1));
  bytes += std::string(100, 'x');
  DecodedSegment decoded = decode_segment(bytes);
  EXPECT_EQ(decoded.end, SegmentEnd::kCorrupt);
  EXPECT_NE(decoded.problem.find("exceeds the limit"), std::string::npos) << decoded.problem;
}

// Records with a good CRC whose contents are nonsense: a bug or another format, never torn.
std::string raw_record(std::uint8_t type, const std::string& payload) {
  std::string typed(1, static_cast<char>(type));
  typed += payload;
  std::string out;
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
  put_le<std::uint32_t>(out, crc32c(typed));
  return out + typed;
}

TEST(DecodeSegment, WellFormedNonsenseIsCorruption) {
  struct Case {
    std::string bytes;
    std::string expected;
  };
  std::vector<Case> cases = {
      {raw_record(9, "abc"), "offset 0: unknown record type 9"},
      {raw_record(0, ""), "offset 0: unknown record type 0"},
      {raw_record(1, "\xff\xff\xff"), "offset 0: entry record: payload is not a pb::Entry"},
      {raw_record(3, "short"), "offset 0: log start record: 5 payload bytes, expected 16"},
  };
  for (const Case& c : cases) {
    DecodedSegment decoded = decode_segment(c.bytes);
    EXPECT_EQ(decoded.end, SegmentEnd::kCorrupt) << c.expected;
    EXPECT_EQ(decoded.problem, c.expected);
  }
}

// --- WalReplay ---

Status apply_all(WalReplay& replay, const std::vector<RecordValue>& records) {
  for (const RecordValue& r : records) {
    if (Status s = replay.apply(r); !s.is_ok()) return s;
  }
  return Status::ok();
}

TEST(WalReplay, ALaterEntryReplacesTheLogFromItsIndex) {
  WalReplay replay;
  std::vector<RecordValue> records;
  for (const raft::Entry& e : testing::entries(1, 10, 1)) records.emplace_back(e);
  for (const raft::Entry& e : testing::entries(6, 8, 2)) records.emplace_back(e);
  ASSERT_TRUE(apply_all(replay, records).is_ok());
  std::vector<raft::Entry> expected = testing::entries(1, 5, 1);
  for (const raft::Entry& e : testing::entries(6, 8, 2)) expected.push_back(e);
  EXPECT_EQ(replay.entries(), expected);
  EXPECT_EQ(replay.base(), raft::LogIndex{0});
}

TEST(WalReplay, RefusesAGapAndAFallingTerm) {
  WalReplay replay;
  ASSERT_TRUE(apply_all(replay, {entry(1, 2), entry(2, 2)}).is_ok());
  Status gap = replay.apply(entry(4, 2));
  EXPECT_EQ(gap.code(), StatusCode::kDataLoss);
  EXPECT_EQ(gap.message(), "entry index 4 after index 2: not contiguous");
  Status falling = replay.apply(entry(3, 1));
  EXPECT_EQ(falling.message(), "entry 3 has term 1, below the previous entry's term 2");
  EXPECT_EQ(replay.entries().size(), 2u);
  EXPECT_EQ(replay.apply(entry(0, 2)).message(), "entry index 0: indexes start at 1");
}

TEST(WalReplay, ALogStartVoidsTheEntriesBeforeIt) {
  WalReplay replay;
  ASSERT_TRUE(
      apply_all(replay, {entry(1, 1), entry(2, 1), LogStart{raft::LogIndex{20}, raft::Term{4}}})
          .is_ok());
  EXPECT_TRUE(replay.entries().empty());
  EXPECT_EQ(replay.base(), raft::LogIndex{20});
  EXPECT_EQ(replay.base_term(), raft::Term{4});
  EXPECT_EQ(replay.apply(entry(22, 4)).message(), "entry index 22 after index 20: not contiguous");
  EXPECT_EQ(replay.apply(entry(21, 3)).message(),
            "entry 21 has term 3, below the previous entry's term 4");
  EXPECT_EQ(replay.apply(entry(20, 4)).message(),
            "entry index 20 is at or before the log start 20");
  EXPECT_TRUE(replay.apply(entry(21, 4)).is_ok());
}

// After compaction deleted the segment holding entries 1..100, the first segment read may
// truncate back into them (uncommitted entries replaced before the compaction).
TEST(WalReplay, AnEntryBeforeTheFirstOneReadRestartsTheLog) {
  WalReplay replay;
  ASSERT_TRUE(apply_all(replay, {entry(101, 1), entry(102, 1), entry(95, 2)}).is_ok());
  EXPECT_EQ(replay.base(), raft::LogIndex{94});
  EXPECT_EQ(replay.entries(), std::vector<raft::Entry>{entry(95, 2)});
}

TEST(WalReplay, TheNewestHardStateWins) {
  WalReplay replay;
  ASSERT_TRUE(apply_all(replay, {hard_state(1, 1, 0), hard_state(2, 3, 5)}).is_ok());
  EXPECT_EQ(replay.hard_state(), hard_state(2, 3, 5));
}

// --- layout.h ---

TEST(Layout, NamesRoundTripAndAnythingElseIsRefused) {
  SegmentName segment{2, raft::LogIndex{0x401}};
  EXPECT_EQ(file_name(segment), "0000000000000002-0000000000000401.wal");
  EXPECT_EQ(parse_segment_name(file_name(segment)), segment);
  SnapshotName snap{raft::Term{3}, raft::LogIndex{0x400}};
  EXPECT_EQ(file_name(snap), "0000000000000003-0000000000000400.snap");
  EXPECT_EQ(parse_snapshot_name(file_name(snap)), snap);
  for (const char* bad :
       {"0000000000000002-0000000000000401.snap", "2-401.wal",
        "000000000000000G-0000000000000401.wal", "0000000000000002_0000000000000401.wal",
        "0000000000000002-0000000000000401.wal.corrupt", "0000000000000002-000000000000040A.wal"}) {
    EXPECT_FALSE(parse_segment_name(bad).has_value()) << bad;
  }
}

TEST(Layout, SnapshotFileRoundTripsAndEveryDamageIsNamed) {
  raft::Snapshot s = testing::snapshot(400, 3, "state");
  Result<std::string> bytes = encode_snapshot_file(s);
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(bytes->substr(0, 8), "SPFSNAP1");
  Result<raft::Snapshot> back = decode_snapshot_file(*bytes);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, s);

  std::string flipped = *bytes;
  flipped.back() ^= 0x04;
  EXPECT_EQ(decode_snapshot_file(flipped).status().message().rfind("crc mismatch", 0), 0u);
  std::string cut = bytes->substr(0, bytes->size() - 1);
  EXPECT_NE(decode_snapshot_file(cut).status().message().find("payload bytes follow"),
            std::string::npos);
  std::string magic = *bytes;
  magic[0] = 'X';
  EXPECT_EQ(decode_snapshot_file(magic).status().code(), StatusCode::kDataLoss);
}

TEST(Layout, VoteFileRoundTripsAndRefusesDamage) {
  Vote vote{raft::Term{7}, raft::NodeId{2}};
  std::string bytes = encode_vote_file(vote);
  EXPECT_EQ(bytes.size(), 28u);
  Result<Vote> back = decode_vote_file(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, vote);
  bytes[10] ^= 0x01;
  EXPECT_EQ(decode_vote_file(bytes).status().message().rfind("crc mismatch", 0), 0u);
  EXPECT_EQ(decode_vote_file("short").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace spofless::storage
