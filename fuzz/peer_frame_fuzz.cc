// Fuzzes what a peer connection reads: the byte stream is cut into frames (proto/frame.h) and
// each frame decoded as a Raft message (proto/raft_codec.h). Checked, for any input:
// - the frames and the verdict do not depend on how the stream is split into reads;
// - a decoded message keeps the codec's promises (ids nonzero, a snapshot exactly on
//   MSG_SNAPSHOT, an append's entries continuing its index) and survives re-encoding.
// The raw input is also decoded as one message, without framing.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/check.h"
#include "proto/frame.h"
#include "proto/raft_codec.h"

namespace {

using spofless::Result;
using spofless::Status;
using spofless::raft::Message;
using spofless::raft::MessageType;
using spofless::raft::NodeId;

// Inputs up to this size are also fed one byte at a time (quadratic work would slow the
// fuzzer on large inputs for no new paths).
constexpr std::size_t kBytewiseMaxInput = 4096;

auto fields(const Message& m) {
  return std::tie(m.type, m.from, m.to, m.term, m.index, m.log_term, m.entries, m.commit, m.reject,
                  m.hint_index, m.hint_term, m.leader_transfer, m.round, m.context, m.snapshot,
                  m.log_lost);
}

void check_message(std::string_view bytes) {
  Result<Message> m = spofless::proto::decode_message(bytes);
  if (!m) {
    SPOFLESS_CHECK(m.status().code() == spofless::StatusCode::kInvalidArgument,
                   "malformed input is invalid_argument");
    return;
  }
  SPOFLESS_CHECK(m->from != NodeId::kNone && m->to != NodeId::kNone, "ids are nonzero");
  SPOFLESS_CHECK(m->snapshot.has_value() == (m->type == MessageType::kSnapshot),
                 "a snapshot exactly on MSG_SNAPSHOT");
  SPOFLESS_CHECK(m->entries.empty() || m->type == MessageType::kAppend, "entries only on appends");
  for (std::size_t i = 0; i < m->entries.size(); ++i) {
    SPOFLESS_CHECK(m->entries[i].index.value == m->index.value + 1 + i, "entries are contiguous");
    SPOFLESS_CHECK(m->entries[i].term <= m->term, "entries are no newer than the message");
  }
  std::string encoded = spofless::proto::encode_message(*m);
  Result<Message> again = spofless::proto::decode_message(encoded);
  SPOFLESS_CHECK(again.is_ok(), "a decoded message re-encodes to a valid one");
  SPOFLESS_CHECK(fields(*again) == fields(*m), "a decoded message round-trips");
}

struct Outcome {
  std::vector<std::string> frames;
  Status status;
};

// Feeds `input` in pieces that end at each of `cuts` (ascending) and then at the end.
Outcome feed(std::string_view input, const std::vector<std::size_t>& cuts) {
  spofless::proto::FrameDecoder decoder;
  Outcome out;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    out.status = decoder.feed(input.substr(from, cut - from), out.frames);
    from = cut;
    if (!out.status.is_ok()) return out;
  }
  out.status = decoder.feed(input.substr(from), out.frames);
  return out;
}

void check_same(const Outcome& a, const Outcome& b) {
  SPOFLESS_CHECK(a.frames == b.frames, "frames do not depend on the read sizes");
  SPOFLESS_CHECK(a.status.is_ok() == b.status.is_ok() && a.status.message() == b.status.message(),
                 "the verdict does not depend on the read sizes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_message(input);

  Outcome whole = feed(input, {});
  for (const std::string& frame : whole.frames) check_message(frame);
  if (size == 0) return 0;
  check_same(whole, feed(input, {std::size_t{data[0]} * size / 256}));
  if (size <= kBytewiseMaxInput) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < size; ++i) every.push_back(i);
    check_same(whole, feed(input, every));
  }
  return 0;
}
