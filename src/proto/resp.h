#pragma once

// RESP2, the Redis protocol as Redis 7 speaks it to clients that have not sent HELLO 3:
// - RespRequestParser: the server side, request bytes in, argument vectors out; multibulk
//   (`*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n`) and inline (`ECHO "hi there"\r\n`) requests.
// - RespWriter: replies (and, for clients, requests) appended to a string.
// - RespReplyParser: the client side, reply bytes in, RespValue trees out.
// Pure code: bytes in, values out, no sockets. Both parsers are incremental: bytes may arrive
// split anywhere, and the result does not depend on where. Every error is invalid_argument
// "Protocol error: <what> at byte <offset in the stream>"; a parser that failed refuses all
// further input, since the stream can no longer be framed (the server replies -ERR and closes
// the connection, as Redis does).

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/status.h"

namespace spofless::proto {

// One request: argv[0] is the command name, as the client spelled it.
using RespArgs = std::vector<std::string>;

// Bounds on what one connection may make a parser hold. The defaults are the system's limits;
// tests shrink them. An inline request is bounded by its line alone (max_inline_bytes), which
// with the defaults is far within max_args and max_bulk_bytes.
struct RespLimits {
  std::size_t max_args = limits::kRespMaxArgs;  // of a request; values of a reply, all levels
  std::size_t max_bulk_bytes = limits::kRespMaxBulkBytes;
  std::size_t max_inline_bytes = limits::kRespMaxInlineBytes;    // any line, CRLF excluded
  std::size_t max_message_bytes = limits::kRespMaxMessageBytes;  // one request or reply
};

namespace detail {

enum class Step : std::uint8_t { kContinue, kWait, kFailed };

// The unparsed tail of a byte stream, where it sits in the stream, and the error that ended
// it, if one did. A parser parses begin(bytes), then hands back how much it consumed with
// end(); what is left (at most a partial line) is held for the next begin(). feed() does both
// around a parser's step function. Owned by the parser that holds it.
class RespStream {
 public:
  // Runs step(data, pos) over the held bytes followed by `bytes` until it returns kWait or
  // kFailed, then holds what it left. A step that returns kContinue consumed at least one
  // byte, so this ends within data.size() steps. Returns the stream's error: after one, every
  // call returns it and consumes nothing.
  template <class StepFunction>
  Status feed(std::string_view bytes, StepFunction&& step) {
    if (!error_.is_ok()) return error_;
    const std::string_view data = begin(bytes);
    std::size_t pos = 0;
    Step s = Step::kContinue;
    while (s == Step::kContinue) s = step(data, pos);
    end(data, pos);
    return error_;
  }
  // Ends the stream with invalid_argument "Protocol error: <what> at byte <offset>", the
  // offset being that of data[index] in the view begin() returned.
  Step fail(std::string_view what, std::size_t index);

  // The bytes to parse: those held, followed by `bytes`. Valid until end().
  std::string_view begin(std::string_view bytes);
  // Holds data[consumed..] of the view begin() returned, for the next begin().
  void end(std::string_view data, std::size_t consumed);
  // Stream offset of data[index], for the view begin() returned.
  std::uint64_t offset(std::size_t index) const { return base_ + index; }
  // Bytes fed so far: the stream offset of the next byte to arrive.
  std::uint64_t fed() const { return fed_; }

  // Bytes at the start of the unfinished line that are known to hold no terminator, so
  // that a line arriving a byte at a time is searched once, not once per byte. Zero unless
  // the held bytes begin with an unfinished line.
  std::size_t line_scanned = 0;

 private:
  std::string held_;
  bool parsing_held_ = false;  // begin() returned held_ rather than its argument
  std::uint64_t base_ = 0;     // stream offset of the first byte begin() returns
  std::uint64_t fed_ = 0;
  Status error_;
};

}  // namespace detail

// Parses the requests a Redis client sends. Owned by one connection's thread.
class RespRequestParser {
 public:
  explicit RespRequestParser(RespLimits limits = {});

  // Consumes `bytes` and appends every request they complete to `out`. Requests parsed
  // before an error are appended too. Empty requests (blank lines, `*0`, `*-1`, any `*N`
  // with N <= 0) are skipped, as Redis does. Errors, in Redis's wording where it has one:
  //   "invalid multibulk length", "expected '$', got 'x'", "invalid bulk length",
  //   "too big mbulk count string", "too big bulk count string", "too big inline request",
  //   "unbalanced quotes in request", "bulk data not followed by CRLF",
  //   "expected '\n' after '\r', got 'x'", "request bigger than N bytes".
  // A declared bulk or argument count beyond the limits fails at once, before its data.
  // After an error every call returns that error and consumes nothing.
  Status feed(std::string_view bytes, std::vector<RespArgs>& out);

  // Bytes received that belong to no complete request yet (a partial request, including the
  // arguments already parsed from it). Never more than the limits allow.
  std::size_t buffered_bytes() const;

 private:
  enum class Phase : std::uint8_t { kRequest, kBulkHeader, kBulkData };

  detail::Step step(std::string_view data, std::size_t& pos, std::vector<RespArgs>& out);
  detail::Step multibulk_count(std::string_view data, std::size_t& pos);
  detail::Step inline_request(std::string_view data, std::size_t& pos, std::vector<RespArgs>& out);
  detail::Step bulk_header(std::string_view data, std::size_t& pos);
  detail::Step bulk_data(std::string_view data, std::size_t& pos, std::vector<RespArgs>& out);

  RespLimits limits_;
  detail::RespStream stream_;
  Phase phase_ = Phase::kRequest;
  RespArgs args_;                    // the request being parsed; its last element is filling
  std::size_t args_left_ = 0;        // bulks still to come in a multibulk request
  std::size_t bulk_length_ = 0;      // of the bulk being read, in kBulkData
  std::uint64_t request_start_ = 0;  // stream offset of the first byte not yet returned
};

// One RESP2 value. Only the fields of its kind are meaningful: str for simple strings, errors
// and bulks, integer for integers, elements for arrays. RESP2's two nils stay apart, so that a
// value passes through unchanged: kNull is the null bulk ($-1, a missing key), kNullArray the
// null array (*-1, an EXEC aborted by WATCH).
struct RespValue {
  enum class Kind : std::uint8_t { kSimple, kError, kInteger, kBulk, kNull, kNullArray, kArray };

  Kind kind = Kind::kNull;
  std::string str;
  long long integer = 0;
  std::vector<RespValue> elements;

  // Equal kinds and equal meaningful fields.
  bool operator==(const RespValue& other) const;
  // redis-cli style, for test messages: +OK, -ERR x, :1, "bytes\r\n", (nil), [a, b].
  std::string to_string() const;
};

RespValue resp_simple(std::string text);
RespValue resp_error(std::string message);
RespValue resp_integer(long long n);
RespValue resp_bulk(std::string bytes);
RespValue resp_null();
RespValue resp_null_array();
RespValue resp_array(std::vector<RespValue> elements);

// Appends RESP2 to a string the caller owns (and later sends). Used on the caller's thread.
class RespWriter {
 public:
  explicit RespWriter(std::string& out) : out_(out) {}

  // "+text\r\n". A simple string cannot hold CR or LF: each is written as a space.
  void simple(std::string_view text);
  // "-message\r\n", the message starting with its code ("ERR unknown command 'x'"). CR and
  // LF in it are written as spaces.
  void error(std::string_view message);
  void integer(long long n);
  void bulk(std::string_view bytes);  // binary-safe
  void null();                        // $-1
  void null_array();                  // *-1
  // "*n\r\n": the caller then writes the n elements.
  void array(std::size_t n);
  // REQUIRES: v nests at most limits::kRespMaxNesting arrays deep.
  void value(const RespValue& v);
  // A request as clients send it: an array of bulks.
  void request(const RespArgs& argv);
  void request(std::initializer_list<std::string_view> argv);

 private:
  void line(char type, std::string_view text);
  void header(char type, long long n);
  void value_at_depth(const RespValue& v, std::size_t depth);

  std::string& out_;
};

// Parses the replies a Redis server sends. Owned by one connection's thread.
class RespReplyParser {
 public:
  explicit RespReplyParser(RespLimits limits = {});

  // Consumes `bytes` and appends every reply they complete to `out`; replies parsed before
  // an error are appended too. Errors: "expected a reply type (+ - : $ *), got 'x'",
  // "invalid integer", "invalid bulk length", "invalid multibulk length",
  // "too big reply line", "arrays nested deeper than 32", "reply holds more than N values",
  // "reply bigger than N bytes", "bulk data not followed by CRLF",
  // "expected '\n' after '\r', got 'x'". After an error every call returns that error.
  Status feed(std::string_view bytes, std::vector<RespValue>& out);

  // Bytes received that belong to no complete reply yet.
  std::size_t buffered_bytes() const;

 private:
  enum class Phase : std::uint8_t { kHeader, kBulkData };
  struct Frame {
    RespValue array;
    std::size_t left;  // elements still to come
  };

  detail::Step step(std::string_view data, std::size_t& pos, std::vector<RespValue>& out);
  detail::Step header(std::string_view data, std::size_t& pos, std::vector<RespValue>& out);
  detail::Step open_array(long long n, std::size_t header_at, std::vector<RespValue>& out);
  detail::Step bulk_data(std::string_view data, std::size_t& pos, std::vector<RespValue>& out);
  void complete(RespValue v, std::vector<RespValue>& out);

  RespLimits limits_;
  detail::RespStream stream_;
  Phase phase_ = Phase::kHeader;
  std::vector<Frame> open_;  // arrays being filled, outermost first; at most kRespMaxNesting
  std::string bulk_;         // the bulk being read, in kBulkData
  std::size_t bulk_length_ = 0;
  std::size_t values_ = 0;         // values of the current reply so far
  std::uint64_t reply_start_ = 0;  // stream offset of the first byte not yet returned
};

}  // namespace spofless::proto
