#include "storage/layout.h"

#include <fmt/format.h>

#include "core/limits.h"
#include "proto/raft.pb.h"
#include "proto/raft_codec.h"
#include "storage/bytes.h"
#include "storage/crc32c.h"

namespace spofless::storage {
namespace {

constexpr std::string_view kSnapshotMagic = "SPFSNAP1";
constexpr std::string_view kVoteMagic = "SPFVOTE1";
constexpr std::size_t kSnapshotHeaderBytes = 8 + 8 + 4;
constexpr std::size_t kVoteFileBytes = 8 + 8 + 8 + 4;
constexpr std::size_t kHexDigits = 16;

Status data_loss(std::string message) { return {StatusCode::kDataLoss, std::move(message)}; }

std::optional<std::uint64_t> parse_hex(std::string_view digits) {
  if (digits.size() != kHexDigits) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    value = value << 4 | static_cast<std::uint64_t>(digit);
  }
  return value;
}

// "<16 hex>-<16 hex><suffix>" as its two numbers.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_pair(std::string_view file,
                                                                  std::string_view suffix) {
  if (file.size() != 2 * kHexDigits + 1 + suffix.size()) return std::nullopt;
  if (file.substr(2 * kHexDigits + 1) != suffix || file[kHexDigits] != '-') return std::nullopt;
  std::optional<std::uint64_t> a = parse_hex(file.substr(0, kHexDigits));
  std::optional<std::uint64_t> b = parse_hex(file.substr(kHexDigits + 1, kHexDigits));
  if (!a || !b) return std::nullopt;
  return std::pair{*a, *b};
}

}  // namespace

std::string file_name(const SegmentName& name) {
  return fmt::format("{:016x}-{:016x}.wal", name.seq, name.first.value);
}

std::optional<SegmentName> parse_segment_name(std::string_view file) {
  auto pair = parse_pair(file, ".wal");
  if (!pair) return std::nullopt;
  return SegmentName{pair->first, raft::LogIndex{pair->second}};
}

std::string file_name(const SnapshotName& name) {
  return fmt::format("{:016x}-{:016x}.snap", name.term.value, name.index.value);
}

std::optional<SnapshotName> parse_snapshot_name(std::string_view file) {
  auto pair = parse_pair(file, ".snap");
  if (!pair) return std::nullopt;
  return SnapshotName{raft::Term{pair->first}, raft::LogIndex{pair->second}};
}

Result<std::string> encode_snapshot_file(const raft::Snapshot& snapshot) {
  std::string payload = proto::to_pb(snapshot).SerializeAsString();
  if (payload.size() > limits::kSnapshotMaxBytes) {
    return invalid_argument(fmt::format("snapshot at index {}: {} bytes encoded, limit {}",
                                        snapshot.index.value, payload.size(),
                                        limits::kSnapshotMaxBytes));
  }
  std::string out;
  out.reserve(kSnapshotHeaderBytes + payload.size());
  out += kSnapshotMagic;
  put_le<std::uint64_t>(out, payload.size());
  put_le<std::uint32_t>(out, crc32c(payload));
  out += payload;
  return out;
}

Result<raft::Snapshot> decode_snapshot_file(std::string_view bytes) {
  if (bytes.size() < kSnapshotHeaderBytes || bytes.substr(0, 8) != kSnapshotMagic) {
    return data_loss(fmt::format("not a snapshot file ({} bytes, magic is not {})", bytes.size(),
                                 kSnapshotMagic));
  }
  auto length = get_le<std::uint64_t>(bytes.substr(8));
  std::string_view payload = bytes.substr(kSnapshotHeaderBytes);
  if (length > limits::kSnapshotMaxBytes || length != payload.size()) {
    return data_loss(fmt::format("offset 8: length {}, but {} payload bytes follow (limit {})",
                                 length, payload.size(), limits::kSnapshotMaxBytes));
  }
  auto stored = get_le<std::uint32_t>(bytes.substr(16));
  std::uint32_t computed = crc32c(payload);
  if (stored != computed) {
    return data_loss(
        fmt::format("crc mismatch (stored {:#010x}, computed {:#010x})", stored, computed));
  }
  pb::Snapshot pb;
  if (!pb.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return data_loss("payload is not a pb::Snapshot");
  }
  Result<raft::Snapshot> snapshot = proto::from_pb(pb);
  if (!snapshot) return data_loss("payload: " + snapshot.status().message());
  return snapshot;
}

std::string encode_vote_file(const Vote& vote) {
  std::string out(kVoteMagic);
  put_le<std::uint64_t>(out, vote.term.value);
  put_le<std::uint64_t>(out, static_cast<std::uint64_t>(vote.vote));
  put_le<std::uint32_t>(out, crc32c(out));
  return out;
}

Result<Vote> decode_vote_file(std::string_view bytes) {
  if (bytes.size() != kVoteFileBytes || bytes.substr(0, 8) != kVoteMagic) {
    return data_loss(fmt::format("not a vote file ({} bytes, expected {} starting {})",
                                 bytes.size(), kVoteFileBytes, kVoteMagic));
  }
  auto stored = get_le<std::uint32_t>(bytes.substr(24));
  std::uint32_t computed = crc32c(bytes.substr(0, 24));
  if (stored != computed) {
    return data_loss(
        fmt::format("crc mismatch (stored {:#010x}, computed {:#010x})", stored, computed));
  }
  return Vote{raft::Term{get_le<std::uint64_t>(bytes.substr(8))},
              raft::NodeId{get_le<std::uint64_t>(bytes.substr(16))}};
}

}  // namespace spofless::storage
