// The RESP2 codec against the Redis protocol specification (redis.io/docs/reference/protocol-spec,
// "RESP protocol description" and "Inline commands") and Redis 7's networking.c, whose error
// wording the request parser keeps.

#include "proto/resp.h"

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace spofless::proto {

// How rapidcheck prints a counterexample's values.
void showValue(const RespValue& v, std::ostream& os) { os << v.to_string(); }

namespace {

using namespace std::string_literals;

struct Requests {
  std::vector<RespArgs> args;
  Status status;
  std::size_t buffered = 0;
};

// Feeds `stream` in pieces cut at `cuts` (ascending offsets), stopping at the first error.
Requests parse_requests(std::string_view stream, const std::vector<std::size_t>& cuts = {},
                        RespLimits limits = {}) {
  RespRequestParser parser(limits);
  Requests r;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && r.status.is_ok(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : stream.size();
    r.status = parser.feed(stream.substr(from, to - from), r.args);
    from = to;
  }
  r.buffered = parser.buffered_bytes();
  return r;
}

std::vector<std::size_t> every_byte(std::size_t n) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

// The stream parsed whole, a byte at a time, and cut once at every offset gives one result.
void expect_split_invariant(std::string_view stream, RespLimits limits = {}) {
  const Requests whole = parse_requests(stream, {}, limits);
  const Requests bytewise = parse_requests(stream, every_byte(stream.size()), limits);
  EXPECT_EQ(bytewise.args, whole.args);
  EXPECT_EQ(bytewise.status.to_string(), whole.status.to_string());
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    const Requests split = parse_requests(stream, {cut}, limits);
    EXPECT_EQ(split.args, whole.args) << "cut at " << cut;
    EXPECT_EQ(split.status.to_string(), whole.status.to_string()) << "cut at " << cut;
  }
}

void expect_error(std::string_view stream, std::string_view message, RespLimits limits = {}) {
  const Requests r = parse_requests(stream, {}, limits);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << stream;
  EXPECT_EQ(r.status.message(), message) << stream;
  expect_split_invariant(stream, limits);
}

TEST(RespRequestParser, MultibulkRequestIsAnArrayOfBulks) {
  const Requests r = parse_requests("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.args, (std::vector<RespArgs>{{"SET", "key", "value"}}));
  EXPECT_EQ(r.buffered, 0u);
}

TEST(RespRequestParser, BulksAreBinarySafe) {
  const std::string value = "a\r\nb\0c\r\n$1\r\n*"s;
  const std::string stream = "*2\r\n$4\r\nECHO\r\n$" + std::to_string(value.size()) + "\r\n" +
                             value + "\r\n*1\r\n$0\r\n\r\n";
  const Requests r = parse_requests(stream);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.args, (std::vector<RespArgs>{{"ECHO", value}, {""}}));
  expect_split_invariant(stream);
}

TEST(RespRequestParser, PipelineOfSixteenRequestsAsRedisBenchmarkSendsThem) {
  std::string stream;
  std::vector<RespArgs> expected;
  RespWriter writer(stream);
  for (int i = 0; i < 16; ++i) {
    expected.push_back({"SET", "key:" + std::to_string(i), std::string(3, 'x')});
    writer.request(expected.back());
  }
  const Requests r = parse_requests(stream);
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.args, expected);
  expect_split_invariant(stream);
}

TEST(RespRequestParser, InlineCommandsSplitOnWhitespace) {
  const Requests r = parse_requests("PING\r\nECHO  hello\t world \n  \r\n\nGET k\r\n");
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.args, (std::vector<RespArgs>{{"PING"}, {"ECHO", "hello", "world"}, {"GET", "k"}}));
}

TEST(RespRequestParser, InlineQuotesFollowRedisRules) {
  struct Case {
    std::string line;
    RespArgs args;
  };
  const std::vector<Case> cases = {
      {R"(SET a "b c")", {"SET", "a", "b c"}},
      {R"(SET a 'b c')", {"SET", "a", "b c"}},
      {R"(SET a "")", {"SET", "a", ""}},
      {R"(ECHO "\x41\x7a\n\r\t\"\\\q")", {"ECHO", "Az\n\r\t\"\\q"}},
      {R"(ECHO "\xZZ")", {"ECHO", "xZZ"}},
      {R"(ECHO 'it\'s' '\n')", {"ECHO", "it's", "\\n"}},
      {"ECHO a\vb\fc", {"ECHO", "a\vb\fc"}},  // only space, tab, CR and LF end a bare argument
  };
  for (const Case& c : cases) {
    const Requests r = parse_requests(c.line + "\r\n");
    ASSERT_TRUE(r.status.is_ok()) << c.line << ": " << r.status.to_string();
    EXPECT_EQ(r.args, std::vector<RespArgs>{c.args}) << c.line;
  }
  EXPECT_EQ(parse_requests("ECHO a\"b c\" d\r\n").args,
            (std::vector<RespArgs>{{"ECHO", "ab c", "d"}}));
}

TEST(RespRequestParser, InlineLineEndsAtANulByteAsRedisReadsACString) {
  const Requests r = parse_requests("ECHO a\0b c\r\nPING\r\n"s);
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.args, (std::vector<RespArgs>{{"ECHO", "a"}, {"PING"}}));
}

TEST(RespRequestParser, EmptyRequestsAreSkipped) {
  const Requests r = parse_requests("\r\n\n   \r\n*0\r\n*-1\r\n*-7\r\nPING\r\n");
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.args, (std::vector<RespArgs>{{"PING"}}));
  EXPECT_EQ(r.buffered, 0u);
}

TEST(RespRequestParser, MixedStreamGivesOneResultHoweverItIsSplit) {
  expect_split_invariant(
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a \"b\\x00 c\"\r\n\r\n*0\r\n*1\r\n$4\r\nPING\r\n"
      "ECHO 'x y'\n*3\r\n$3\r\nSET\r\n$0\r\n\r\n$2\r\n\r\n\r\n");
}

TEST(RespRequestParser, BufferedBytesCountAPartialRequest) {
  RespRequestParser parser;
  std::vector<RespArgs> out;
  ASSERT_TRUE(parser.feed("PING\r\n*2\r\n$3\r\nGET\r\n$1\r", out).is_ok());
  EXPECT_EQ(out, (std::vector<RespArgs>{{"PING"}}));
  EXPECT_EQ(parser.buffered_bytes(), std::string_view("*2\r\n$3\r\nGET\r\n$1\r").size());
  ASSERT_TRUE(parser.feed("\nk\r\n", out).is_ok());
  EXPECT_EQ(out.back(), (RespArgs{"GET", "k"}));
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(RespRequestParser, ProtocolErrorsUseRedisWordingAndTheStreamOffset) {
  expect_error("*x\r\n", "Protocol error: invalid multibulk length at byte 0");
  expect_error("*+1\r\n", "Protocol error: invalid multibulk length at byte 0");
  expect_error("*01\r\n", "Protocol error: invalid multibulk length at byte 0");
  expect_error("*\r\n", "Protocol error: invalid multibulk length at byte 0");
  expect_error("PING\r\n*1048577\r\n", "Protocol error: invalid multibulk length at byte 6");
  expect_error("*1\r\nx", "Protocol error: expected '$', got 'x' at byte 4");
  expect_error("*1\r\n\r\n", "Protocol error: expected '$', got '\\x0d' at byte 4");
  expect_error("*1\r\n$-1\r\n", "Protocol error: invalid bulk length at byte 4");
  expect_error("*1\r\n$ 1\r\n", "Protocol error: invalid bulk length at byte 4");
  expect_error("*1\r\n$9223372036854775808\r\n", "Protocol error: invalid bulk length at byte 4");
  expect_error("*1\r\n$3\r\nabcXY", "Protocol error: bulk data not followed by CRLF at byte 11");
  expect_error("*1\r\n$3\r\nabc\rX", "Protocol error: bulk data not followed by CRLF at byte 11");
  expect_error("*1\rX", "Protocol error: expected '\\n' after '\\r', got 'X' at byte 3");
  expect_error("*1\r\n$1\rX", "Protocol error: expected '\\n' after '\\r', got 'X' at byte 7");
  expect_error("SET a \"b\r\n", "Protocol error: unbalanced quotes in request at byte 6");
  expect_error("SET a 'b\\'\r\n", "Protocol error: unbalanced quotes in request at byte 6");
  expect_error("ECHO a\"b c\"d\r\n", "Protocol error: unbalanced quotes in request at byte 10");
  expect_error("ECHO 'a'b\r\n", "Protocol error: unbalanced quotes in request at byte 7");
  expect_error("ECHO \"a\0\"\r\n"s, "Protocol error: unbalanced quotes in request at byte 5");
}

TEST(RespRequestParser, RequestsBeforeAnErrorAreReturnedAndLaterInputIsRefused) {
  RespRequestParser parser;
  std::vector<RespArgs> out;
  ASSERT_TRUE(parser.feed("PING\r\n", out).is_ok());
  const Status error = parser.feed("ECHO a\r\n*1\r\n!", out);
  EXPECT_EQ(error.message(), "Protocol error: expected '$', got '!' at byte 18");
  EXPECT_EQ(out, (std::vector<RespArgs>{{"PING"}, {"ECHO", "a"}}));
  EXPECT_EQ(parser.feed("PING\r\n", out).message(), error.message());
  EXPECT_EQ(out.size(), 2u);
}

TEST(RespRequestParser, InlineLineLimitCountsBytesBeforeTheLineEnd) {
  RespLimits limits;
  limits.max_inline_bytes = 8;
  EXPECT_TRUE(parse_requests("12345678\r\n", {}, limits).status.is_ok());
  EXPECT_TRUE(parse_requests("12345678\n", {}, limits).status.is_ok());
  EXPECT_EQ(parse_requests("12345678\r", {}, limits).buffered, 9u);
  expect_error("123456789\n", "Protocol error: too big inline request at byte 0", limits);
  expect_error("12345678\r9", "Protocol error: too big inline request at byte 0", limits);
  expect_error("PING\n123456789", "Protocol error: too big inline request at byte 5", limits);
  // Redis's own bound: 64 KiB without a newline is too much.
  const Requests r = parse_requests(std::string(limits::kRespMaxInlineBytes + 1, 'x'));
  EXPECT_EQ(r.status.message(), "Protocol error: too big inline request at byte 0");
}

TEST(RespRequestParser, HeaderLinesAreBoundedLikeInlineLines) {
  RespLimits limits;
  limits.max_inline_bytes = 8;
  expect_error("*00000000", "Protocol error: too big mbulk count string at byte 0", limits);
  expect_error("*0000000\r\n", "Protocol error: invalid multibulk length at byte 0", limits);
  expect_error("*1\r\n$00000000", "Protocol error: too big bulk count string at byte 4", limits);
}

TEST(RespRequestParser, CountsAndLengthsBeyondTheLimitsFailBeforeTheirData) {
  RespLimits limits;
  limits.max_args = 2;
  limits.max_bulk_bytes = 4;
  limits.max_message_bytes = 30;
  EXPECT_TRUE(parse_requests("*2\r\n$4\r\nabcd\r\n$4\r\nabcd\r\n", {}, limits).status.is_ok());
  expect_error("*3\r\n", "Protocol error: invalid multibulk length at byte 0", limits);
  expect_error("*1\r\n$5\r\n", "Protocol error: invalid bulk length at byte 4", limits);
  // Two bulks end at byte 24; a third of 4 bytes would end at byte 34.
  limits.max_args = 3;
  expect_error("*3\r\n$4\r\nabcd\r\n$4\r\nabcd\r\n$4\r\n",
               "Protocol error: request bigger than 30 bytes at byte 24", limits);
  // The default limits: a declared 16 MiB + 1 bulk fails with nothing of it sent.
  const Requests r = parse_requests("*1\r\n$16777217\r\n");
  EXPECT_EQ(r.status.message(), "Protocol error: invalid bulk length at byte 4");
  EXPECT_TRUE(parse_requests("*1\r\n$16777216\r\n").status.is_ok());
}

TEST(RespRequestParser, ALargeBulkIsHeldOnceAsItArrives) {
  const std::string value(1 << 20, 'v');
  std::string stream;
  RespWriter(stream).request({"SET", "k", value});
  RespRequestParser parser;
  std::vector<RespArgs> out;
  for (std::size_t at = 0; at < stream.size(); at += 4096) {
    ASSERT_TRUE(parser.feed(std::string_view(stream).substr(at, 4096), out).is_ok());
    if (out.empty()) {
      EXPECT_EQ(parser.buffered_bytes(), at + 4096);
    }
  }
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][2], value);
}

// --- Writer ---

TEST(RespWriter, WritesExactBytes) {
  std::string out;
  RespWriter w(out);
  w.simple("OK");
  w.error("ERR unknown command 'x'");
  w.integer(0);
  w.integer(-42);
  w.integer(LLONG_MIN);
  w.bulk("a\r\nb");
  w.bulk("");
  w.null();
  w.null_array();
  w.array(2);
  w.integer(1);
  w.array(0);
  EXPECT_EQ(out,
            "+OK\r\n-ERR unknown command 'x'\r\n:0\r\n:-42\r\n:-9223372036854775808\r\n"
            "$4\r\na\r\nb\r\n$0\r\n\r\n$-1\r\n*-1\r\n*2\r\n:1\r\n*0\r\n");
}

TEST(RespWriter, SimpleStringsAndErrorsCannotBreakTheirLine) {
  std::string out;
  RespWriter w(out);
  w.simple("a\r\nb");
  w.error("ERR x\ny\r");
  EXPECT_EQ(out, "+a  b\r\n-ERR x y \r\n");
}

TEST(RespWriter, RequestsAreArraysOfBulks) {
  std::string out;
  RespWriter(out).request({"SET", "k", ""});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

// --- Reply parser ---

struct Replies {
  std::vector<RespValue> values;
  Status status;
};

Replies parse_replies(std::string_view stream, std::size_t chunk = std::string_view::npos,
                      RespLimits limits = {}) {
  RespReplyParser parser(limits);
  Replies r;
  for (std::size_t at = 0; at < stream.size() && r.status.is_ok(); at += chunk) {
    r.status = parser.feed(stream.substr(at, chunk), r.values);
  }
  return r;
}

TEST(RespReplyParser, ParsesEveryType) {
  const std::string stream =
      "+OK\r\n-ERR bad\r\n:-7\r\n$3\r\na\r\n\r\n$-1\r\n*-1\r\n*0\r\n"
      "*3\r\n:1\r\n*2\r\n$0\r\n\r\n+x\r\n$-1\r\n";
  const std::vector<RespValue> expected = {
      resp_simple("OK"),
      resp_error("ERR bad"),
      resp_integer(-7),
      resp_bulk("a\r\n"),
      resp_null(),
      resp_null_array(),
      resp_array({}),
      resp_array({resp_integer(1), resp_array({resp_bulk(""), resp_simple("x")}), resp_null()}),
  };
  for (std::size_t chunk : {std::string_view::npos, std::size_t{1}, std::size_t{3}}) {
    const Replies r = parse_replies(stream, chunk);
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    EXPECT_EQ(r.values, expected) << "chunk " << chunk;
  }
}

TEST(RespReplyParser, ErrorsNameWhatAndWhere) {
  auto error_of = [](std::string_view stream, RespLimits limits = {}) {
    return parse_replies(stream, std::string_view::npos, limits).status.message();
  };
  EXPECT_EQ(error_of("+OK\r\n!"),
            "Protocol error: expected a reply type (+ - : $ *), got '!' at byte 5");
  EXPECT_EQ(error_of(":1x\r\n"), "Protocol error: invalid integer at byte 0");
  EXPECT_EQ(error_of("$-2\r\n"), "Protocol error: invalid bulk length at byte 0");
  EXPECT_EQ(error_of("*-2\r\n"), "Protocol error: invalid multibulk length at byte 0");
  EXPECT_EQ(error_of("$1\r\nabc"), "Protocol error: bulk data not followed by CRLF at byte 5");
  EXPECT_EQ(error_of("+a\rb"), "Protocol error: expected '\\n' after '\\r', got 'b' at byte 3");
}

TEST(RespReplyParser, LimitsBoundLinesCountsLengthsAndWholeReplies) {
  auto error_of = [](std::string_view stream, RespLimits limits) {
    return parse_replies(stream, std::string_view::npos, limits).status.message();
  };
  RespLimits lines;
  lines.max_inline_bytes = 4;
  EXPECT_EQ(error_of("+abcd", lines), "Protocol error: too big reply line at byte 0");
  RespLimits values;
  values.max_args = 3;
  EXPECT_EQ(error_of("*4\r\n", values), "Protocol error: invalid multibulk length at byte 0");
  EXPECT_EQ(error_of("*2\r\n*1\r\n:1\r\n:2\r\n", values),
            "Protocol error: reply holds more than 3 values at byte 12");
  RespLimits bulks;
  bulks.max_bulk_bytes = 2;
  EXPECT_EQ(error_of("$3\r\n", bulks), "Protocol error: invalid bulk length at byte 0");
  // Each reply has its own budget: the first fills it exactly.
  RespLimits bytes;
  bytes.max_message_bytes = 11;
  EXPECT_EQ(error_of("*1\r\n$1\r\na\r\n+a\r\n*1\r\n$2\r\n", bytes),
            "Protocol error: reply bigger than 11 bytes at byte 19");
}

TEST(RespReplyParser, NestingIsBoundedWithoutRecursion) {
  std::string ok;
  for (std::size_t i = 0; i < limits::kRespMaxNesting; ++i) ok += "*1\r\n";
  const Replies r = parse_replies(ok + ":1\r\n");
  ASSERT_TRUE(r.status.is_ok());
  ASSERT_EQ(r.values.size(), 1u);
  const Replies deep = parse_replies(ok + "*1\r\n:1\r\n");
  EXPECT_EQ(deep.status.message(),
            "Protocol error: arrays nested deeper than 32 at byte " + std::to_string(ok.size()));
  // An empty array one level further is as deep (found by resp_fuzz: the writer refused it).
  const Replies empty = parse_replies(ok + "*0\r\n");
  EXPECT_EQ(empty.status.message(),
            "Protocol error: arrays nested deeper than 32 at byte " + std::to_string(ok.size()));
}

RespValue gen_value(int depth) {
  const auto any_bytes = rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  const auto one_line = rc::gen::container<std::string>(
      rc::gen::suchThat(rc::gen::arbitrary<char>(), [](char c) { return c != '\r' && c != '\n'; }));
  switch (*rc::gen::inRange(0, depth > 0 ? 7 : 6)) {
    case 0:
      return resp_simple(*one_line);
    case 1:
      return resp_error(*one_line);
    case 2:
      return resp_integer(*rc::gen::arbitrary<long long>());
    case 3:
      return resp_bulk(*any_bytes);
    case 4:
      return resp_null();
    case 5:
      return resp_null_array();
    default: {
      std::vector<RespValue> elements(static_cast<std::size_t>(*rc::gen::inRange(0, 4)));
      for (RespValue& e : elements) e = gen_value(depth - 1);
      return resp_array(std::move(elements));
    }
  }
}

RC_GTEST_PROP(RespProperty, WrittenValuesParseBackHoweverSplit, ()) {
  std::vector<RespValue> values(static_cast<std::size_t>(*rc::gen::inRange(1, 5)));
  for (RespValue& v : values) v = gen_value(*rc::gen::inRange(0, 5));
  std::string stream;
  RespWriter writer(stream);
  for (const RespValue& v : values) writer.value(v);
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, stream.size() + 1);
  RespReplyParser parser;
  std::vector<RespValue> parsed;
  RC_ASSERT(parser.feed(std::string_view(stream).substr(0, cut), parsed).is_ok());
  RC_ASSERT(parser.feed(std::string_view(stream).substr(cut), parsed).is_ok());
  RC_ASSERT(parsed == values);
  RC_ASSERT(parser.buffered_bytes() == 0u);
}

RC_GTEST_PROP(RespProperty, WrittenRequestsParseBackHoweverSplit, (std::vector<RespArgs> sent)) {
  sent.erase(std::remove_if(sent.begin(), sent.end(), [](const RespArgs& a) { return a.empty(); }),
             sent.end());  // an empty request is skipped, not returned
  std::string stream;
  RespWriter writer(stream);
  for (const RespArgs& args : sent) writer.request(args);
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, stream.size() + 1);
  const Requests r = parse_requests(stream, {cut});
  RC_ASSERT(r.status.is_ok());
  RC_ASSERT(r.args == sent);
}

}  // namespace
}  // namespace spofless::proto
