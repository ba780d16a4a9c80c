#pragma once

// The write-ahead log's record format, and the decoder open() and the fuzz target share.
//
// A segment file is a sequence of records:
//   [u32 LE length][u32 LE crc32c][u8 type][payload: `length` bytes]
// The CRC covers the type byte and the payload. Types:
//   1 entry       a pb::Entry
//   2 hard state  a pb::HardState
//   3 log start   u64 LE index, u64 LE term: the log restarts after (index, term), the last
//                 entry of a snapshot received from the leader; every entry before is void
// Type 0 is never written, so a zeroed region never decodes as a record.
//
// Pure functions; any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/limits.h"
#include "raft/types.h"

namespace spofless::storage {

enum class RecordType : std::uint8_t { kEntry = 1, kHardState = 2, kLogStart = 3 };

inline constexpr std::size_t kRecordHeaderBytes = 9;  // length, crc, type
static_assert(limits::kWalMaxSegmentFileBytes >=
                  limits::kWalSegmentBytes + kRecordHeaderBytes + limits::kWalMaxRecordBytes,
              "a full segment plus one largest record is a readable segment");

// The log restarts after `index`, whose term is `term`.
struct LogStart {
  raft::LogIndex index;
  raft::Term term;

  bool operator==(const LogStart&) const = default;
};

using RecordValue = std::variant<raft::Entry, raft::HardState, LogStart>;

struct WalRecord {
  std::uint64_t offset = 0;  // of its header in the segment
  RecordValue value;
};

// Appends one encoded record to `out`. REQUIRES: the payload is at most kWalMaxRecordBytes
// (record_size() tells the caller beforehand).
void append_record(std::string& out, const RecordValue& value);
// Bytes append_record() adds for `value`, header included.
std::size_t record_size(const RecordValue& value);

// How a segment's bytes ended.
enum class SegmentEnd {
  kClean,  // every byte is part of a good record
  // The last record is cut short by the end of the bytes, or fails its CRC with nothing but
  // zero bytes after it: what a crash during an append leaves. A torn tail only in the last
  // segment; anywhere else it is corruption too.
  kTorn,
  kCorrupt,  // a bad record with more data after it, or one that is well-formed nonsense
};

struct DecodedSegment {
  std::vector<WalRecord> records;  // the good records before `valid_bytes`, in order
  std::uint64_t valid_bytes = 0;   // where the first bad byte is (the size when clean)
  SegmentEnd end = SegmentEnd::kClean;
  // Unless clean: "offset 8192: crc mismatch (stored 0x1a2b3c4d, computed 0x5e6f7a8b)".
  std::string problem;
};

// Decodes records until the end of `bytes` or the first bad one. Never fails: every byte
// sequence decodes to a (possibly empty) prefix of good records and says how it ended. A
// record is bad when its length exceeds kWalMaxRecordBytes, its CRC does not match, its type
// is unknown, or its payload does not parse as its type (including raft_codec's validation).
DecodedSegment decode_segment(std::string_view bytes);

}  // namespace spofless::storage
