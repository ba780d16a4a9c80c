// Fuzzes both RESP2 parsers (proto/resp.h) with the same bytes, under the default limits and
// under tiny ones so that every limit is reached. For each parser, the input fed whole, cut
// once at a position taken from the first byte, and fed a byte at a time must give the same
// values, the same error and the same buffered_bytes(). An error is invalid_argument
// "Protocol error: ...". What parses, written back with RespWriter, parses to the same values.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "proto/resp.h"

namespace {

using spofless::Status;
using spofless::proto::RespArgs;
using spofless::proto::RespLimits;
using spofless::proto::RespReplyParser;
using spofless::proto::RespRequestParser;
using spofless::proto::RespValue;
using spofless::proto::RespWriter;

template <typename Value>
struct Run {
  std::vector<Value> values;
  Status status;
  std::size_t buffered = 0;

  bool operator==(const Run& other) const {
    return values == other.values && status.code() == other.status.code() &&
           status.message() == other.status.message() &&
           (!status.is_ok() || buffered == other.buffered);
  }
};

// Feeds `input` cut at each offset of `cuts` (ascending), stopping at the first error.
template <typename Parser, typename Value>
Run<Value> run(std::string_view input, const std::vector<std::size_t>& cuts, RespLimits limits) {
  Parser parser(limits);
  Run<Value> r;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && r.status.is_ok(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : input.size();
    r.status = parser.feed(input.substr(from, to - from), r.values);
    from = to;
  }
  r.buffered = parser.buffered_bytes();
  if (!r.status.is_ok()) {
    SPOFLESS_CHECK(r.status.code() == spofless::StatusCode::kInvalidArgument &&
                       r.status.message().rfind("Protocol error: ", 0) == 0,
                   "a parse error is a named protocol error");
  }
  return r;
}

template <typename Parser, typename Value>
Run<Value> run_every_way(std::string_view input, std::size_t cut, RespLimits limits) {
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  Run<Value> whole = run<Parser, Value>(input, {}, limits);
  SPOFLESS_CHECK((run<Parser, Value>(input, {cut}, limits) == whole), "a cut changes nothing");
  SPOFLESS_CHECK((run<Parser, Value>(input, every_byte, limits) == whole),
                 "byte-at-a-time feeding changes nothing");
  return whole;
}

// What a simple string or error becomes once written: RespWriter turns CR and LF into
// spaces, and the parser lets an LF through (it ends a line only at CRLF).
RespValue as_written(RespValue v) {
  if (v.kind == RespValue::Kind::kSimple || v.kind == RespValue::Kind::kError) {
    for (char& c : v.str) {
      if (c == '\n') c = ' ';
    }
  }
  for (RespValue& e : v.elements) e = as_written(std::move(e));  // nesting bounded by parser
  return v;
}

void check_requests(std::string_view input, std::size_t cut, RespLimits limits) {
  const auto parsed = run_every_way<RespRequestParser, RespArgs>(input, cut, limits);
  std::string written;
  RespWriter writer(written);
  for (const RespArgs& args : parsed.values) {
    // An inline request is bounded by its line: each argument takes 1 byte and a separator.
    SPOFLESS_CHECK(
        !args.empty() && args.size() <= std::max(limits.max_args, limits.max_inline_bytes / 2 + 1),
        "requests are in bounds");
    for (const std::string& arg : args) {
      SPOFLESS_CHECK(arg.size() <= std::max(limits.max_bulk_bytes, limits.max_inline_bytes),
                     "arguments are in bounds");
    }
    writer.request(args);
  }
  const auto again = run<RespRequestParser, RespArgs>(written, {}, RespLimits{});
  SPOFLESS_CHECK(again.status.is_ok() && again.values == parsed.values, "requests round-trip");
}

void check_replies(std::string_view input, std::size_t cut, RespLimits limits) {
  const auto parsed = run_every_way<RespReplyParser, RespValue>(input, cut, limits);
  std::string written;
  RespWriter writer(written);
  std::vector<RespValue> expected;
  for (const RespValue& v : parsed.values) {
    writer.value(v);
    expected.push_back(as_written(v));
  }
  const auto again = run<RespReplyParser, RespValue>(written, {}, RespLimits{});
  SPOFLESS_CHECK(again.status.is_ok() && again.values == expected, "replies round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = size == 0 ? 0 : std::size_t{data[0]} * (size + 1) / 256;
  RespLimits tiny;
  tiny.max_args = 3;
  tiny.max_bulk_bytes = 8;
  tiny.max_inline_bytes = 16;
  tiny.max_message_bytes = 48;
  for (const RespLimits& limits : {RespLimits{}, tiny}) {
    check_requests(input, cut, limits);
    check_replies(input, cut, limits);
  }
  return 0;
}
