#pragma once

// The data directory's names, and the formats of its files other than WAL records:
//   <seq:016x>-<first-index:016x>.wal   WAL segments (wal_format.h); `first-index` is the
//                                       index after the last entry written before it
//   <term:016x>-<index:016x>.snap       snapshots: [8-byte magic "SPFSNAP1"][u64 LE length]
//                                       [u32 LE crc32c of the payload][payload: pb::Snapshot]
//   vote                                term and vote: [8-byte magic "SPFVOTE1"][u64 LE term]
//                                       [u64 LE vote][u32 LE crc32c of the 24 bytes before]
//   LOCK                                flock()ed by the process that has the directory open
//   LOG_LOST                            present while the log lacks entries this server may
//                                       have acknowledged (RecoveryReport::log_lost)
//   *.tmp                               a file being written; removed on open()
//   *.corrupt                           a bad file moved aside for inspection; never read
//
// Pure functions; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "raft/types.h"

namespace spofless::storage {

inline constexpr std::string_view kVoteFileName = "vote";
inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kLogLostFileName = "LOG_LOST";
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kCorruptSuffix = ".corrupt";

struct SegmentName {
  std::uint64_t seq = 0;
  raft::LogIndex first;

  bool operator==(const SegmentName&) const = default;
};
std::string file_name(const SegmentName& name);
// Nothing unless `file` is exactly "<16 hex>-<16 hex>.wal", lowercase.
std::optional<SegmentName> parse_segment_name(std::string_view file);

struct SnapshotName {
  raft::Term term;
  raft::LogIndex index;

  bool operator==(const SnapshotName&) const = default;
};
std::string file_name(const SnapshotName& name);
// Nothing unless `file` is exactly "<16 hex>-<16 hex>.snap", lowercase.
std::optional<SnapshotName> parse_snapshot_name(std::string_view file);

// invalid_argument when the encoded snapshot exceeds limits::kSnapshotMaxBytes.
Result<std::string> encode_snapshot_file(const raft::Snapshot& snapshot);
// data_loss naming what is wrong: the magic, the length, the CRC, or the payload.
Result<raft::Snapshot> decode_snapshot_file(std::string_view bytes);

struct Vote {
  raft::Term term;
  raft::NodeId vote = raft::NodeId::kNone;

  bool operator==(const Vote&) const = default;
};
std::string encode_vote_file(const Vote& vote);
// data_loss naming what is wrong: the size, the magic or the CRC.
Result<Vote> decode_vote_file(std::string_view bytes);

}  // namespace spofless::storage
