#include "storage/wal_format.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/check.h"
#include "proto/raft.pb.h"
#include "proto/raft_codec.h"
#include "storage/bytes.h"
#include "storage/crc32c.h"

namespace spofless::storage {
namespace {

constexpr std::size_t kLogStartPayloadBytes = 16;

struct Payload {
  RecordType type;
  std::string bytes;
};

Payload encode_payload(const RecordValue& value) {
  if (const auto* e = std::get_if<raft::Entry>(&value)) {
    return {RecordType::kEntry, proto::to_pb(*e).SerializeAsString()};
  }
  if (const auto* hs = std::get_if<raft::HardState>(&value)) {
    return {RecordType::kHardState, proto::to_pb(*hs).SerializeAsString()};
  }
  const auto& start = std::get<LogStart>(value);
  Payload p{RecordType::kLogStart, {}};
  put_le<std::uint64_t>(p.bytes, start.index.value);
  put_le<std::uint64_t>(p.bytes, start.term.value);
  return p;
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// The record's value, or why its payload is not one.
Result<RecordValue> decode_payload(std::uint8_t type, std::string_view payload) {
  switch (static_cast<RecordType>(type)) {
    case RecordType::kEntry: {
      pb::Entry e;
      if (!e.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return invalid_argument("entry record: payload is not a pb::Entry");
      }
      Result<raft::Entry> entry = proto::from_pb(e);
      if (!entry) return invalid_argument("entry record: " + entry.status().message());
      return RecordValue{std::move(entry).value()};
    }
    case RecordType::kHardState: {
      pb::HardState hs;
      if (!hs.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return invalid_argument("hard state record: payload is not a pb::HardState");
      }
      return RecordValue{proto::from_pb(hs)};
    }
    case RecordType::kLogStart:
      if (payload.size() != kLogStartPayloadBytes) {
        return invalid_argument(fmt::format("log start record: {} payload bytes, expected {}",
                                            payload.size(), kLogStartPayloadBytes));
      }
      return RecordValue{LogStart{raft::LogIndex{get_le<std::uint64_t>(payload)},
                                  raft::Term{get_le<std::uint64_t>(payload.substr(8))}}};
  }
  return invalid_argument(fmt::format("unknown record type {}", type));
}

DecodedSegment stop(DecodedSegment out, std::uint64_t offset, SegmentEnd end,
                    std::string_view why) {
  out.valid_bytes = offset;
  out.end = end;
  out.problem = fmt::format("offset {}: {}", offset, why);
  return out;
}

}  // namespace

void append_record(std::string& out, const RecordValue& value) {
  Payload p = encode_payload(value);
  SPOFLESS_CHECK(p.bytes.size() <= limits::kWalMaxRecordBytes, "a record within the limit");
  const char type = static_cast<char>(p.type);
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(p.bytes.size()));
  put_le<std::uint32_t>(out, crc32c_extend(crc32c(std::string_view(&type, 1)), p.bytes));
  out.push_back(type);
  out += p.bytes;
}

std::size_t record_size(const RecordValue& value) {
  if (const auto* e = std::get_if<raft::Entry>(&value)) {
    return kRecordHeaderBytes + proto::to_pb(*e).ByteSizeLong();
  }
  if (const auto* hs = std::get_if<raft::HardState>(&value)) {
    return kRecordHeaderBytes + proto::to_pb(*hs).ByteSizeLong();
  }
  return kRecordHeaderBytes + kLogStartPayloadBytes;
}

DecodedSegment decode_segment(std::string_view bytes) {
  DecodedSegment out;
  std::uint64_t offset = 0;
  // Bounded by the input: every turn consumes a header at least, or returns.
  while (offset < bytes.size()) {
    std::string_view rest = bytes.substr(offset);
    if (rest.size() < kRecordHeaderBytes) {
      return stop(std::move(out), offset, SegmentEnd::kTorn,
                  fmt::format("record header cut short by the end ({} bytes left)", rest.size()));
    }
    auto length = get_le<std::uint32_t>(rest);
    auto stored = get_le<std::uint32_t>(rest.substr(4));
    if (length > limits::kWalMaxRecordBytes) {
      return stop(
          std::move(out), offset, SegmentEnd::kCorrupt,
          fmt::format("record length {} exceeds the limit {}", length, limits::kWalMaxRecordBytes));
    }
    std::size_t record_bytes = kRecordHeaderBytes + length;
    if (rest.size() < record_bytes) {
      return stop(std::move(out), offset, SegmentEnd::kTorn,
                  fmt::format("record of {} bytes cut short by the end ({} bytes left)",
                              record_bytes, rest.size()));
    }
    std::uint32_t computed = crc32c(rest.substr(8, 1 + length));
    if (computed != stored) {
      SegmentEnd end =
          all_zero(rest.substr(record_bytes)) ? SegmentEnd::kTorn : SegmentEnd::kCorrupt;
      return stop(
          std::move(out), offset, end,
          fmt::format("crc mismatch (stored {:#010x}, computed {:#010x})", stored, computed));
    }
    auto type = static_cast<std::uint8_t>(rest[8]);
    Result<RecordValue> value = decode_payload(type, rest.substr(kRecordHeaderBytes, length));
    if (!value) {
      return stop(std::move(out), offset, SegmentEnd::kCorrupt, value.status().message());
    }
    out.records.push_back(WalRecord{offset, std::move(value).value()});
    offset += record_bytes;
  }
  out.valid_bytes = offset;
  return out;
}

}  // namespace spofless::storage
