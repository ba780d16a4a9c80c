// Fuzzes the write-ahead log's segment decoder with arbitrary bytes as a segment: it must
// never crash, and what it returns must hold together:
// - it stops exactly at the end when clean, and before the end otherwise;
// - the good prefix decodes again to the same records, cleanly;
// - every record re-encodes to bytes that decode back to the same value;
// - replaying the records keeps the log contiguous from its base.
// Random bytes almost never carry a valid CRC, so each input is also decoded with every
// record's CRC recomputed: that drives the payload decoders and the replay, not just the CRC
// check.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/wal_format.h"
#include "storage/wal_replay.h"

namespace {

using spofless::storage::DecodedSegment;
using spofless::storage::SegmentEnd;
using spofless::storage::WalRecord;

void check_decoded(std::string_view bytes, const DecodedSegment& d) {
  SPOFLESS_CHECK(d.valid_bytes <= bytes.size(), "the good prefix is within the input");
  SPOFLESS_CHECK((d.end == SegmentEnd::kClean) == (d.valid_bytes == bytes.size()),
                 "clean exactly when every byte was used");
  SPOFLESS_CHECK((d.end == SegmentEnd::kClean) == d.problem.empty(), "a problem is described");
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < d.records.size(); ++i) {
    SPOFLESS_CHECK(d.records[i].offset < d.valid_bytes, "records lie in the good prefix");
    SPOFLESS_CHECK(i == 0 ? d.records[i].offset == 0 : d.records[i].offset > previous,
                   "records are in order from offset 0");
    previous = d.records[i].offset;
  }
}

void check_reencoding(const WalRecord& record) {
  std::size_t size = spofless::storage::record_size(record.value);
  if (size > spofless::storage::kRecordHeaderBytes + spofless::limits::kWalMaxRecordBytes) return;
  std::string one;
  spofless::storage::append_record(one, record.value);
  SPOFLESS_CHECK(one.size() == size, "record_size() is what append_record() adds");
  DecodedSegment again = spofless::storage::decode_segment(one);
  SPOFLESS_CHECK(again.end == SegmentEnd::kClean && again.records.size() == 1 &&
                     again.records[0].value == record.value,
                 "a record round-trips");
}

void check_replay(const DecodedSegment& d) {
  spofless::storage::WalReplay replay;
  for (const WalRecord& record : d.records) {
    if (!replay.apply(record.value).is_ok()) break;
    const auto& entries = replay.entries();
    std::uint64_t base = replay.base().value_or(spofless::raft::LogIndex{}).value;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      SPOFLESS_CHECK(entries[i].index.value == base + 1 + i, "the log is contiguous");
      SPOFLESS_CHECK(i == 0 || entries[i].term >= entries[i - 1].term, "terms never fall");
    }
  }
}

// `bytes` with the CRC of every record that fits recomputed.
std::string with_good_crcs(std::string_view bytes) {
  std::string out(bytes);
  std::size_t offset = 0;
  const std::size_t header = spofless::storage::kRecordHeaderBytes;
  // Bounded by the input: every turn moves past a header at least.
  while (out.size() - offset >= header) {
    auto length = spofless::storage::get_le<std::uint32_t>(std::string_view(out).substr(offset));
    if (length > spofless::limits::kWalMaxRecordBytes || out.size() - offset - header < length) {
      break;
    }
    std::string crc;
    spofless::storage::put_le<std::uint32_t>(
        crc, spofless::storage::crc32c(std::string_view(out).substr(offset + 8, 1 + length)));
    out.replace(offset + 4, 4, crc);
    offset += header + length;
  }
  return out;
}

void check_segment(std::string_view bytes) {
  DecodedSegment d = spofless::storage::decode_segment(bytes);
  check_decoded(bytes, d);
  DecodedSegment prefix = spofless::storage::decode_segment(bytes.substr(0, d.valid_bytes));
  SPOFLESS_CHECK(prefix.end == SegmentEnd::kClean && prefix.records.size() == d.records.size(),
                 "the good prefix decodes cleanly to the same records");
  for (std::size_t i = 0; i < d.records.size(); ++i) {
    SPOFLESS_CHECK(prefix.records[i].value == d.records[i].value, "same records");
  }
  for (const WalRecord& record : d.records) check_reencoding(record);
  check_replay(d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_segment(bytes);
  check_segment(with_good_crcs(bytes));
  return 0;
}
