#include "proto/resp.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::proto {

using detail::Step;

namespace {

// Arguments a request reserves room for before they arrive: a declared count is only a
// promise, and `*1048576` alone must not allocate a million strings.
constexpr std::size_t kArgsReservedAhead = 16;

// A byte as an error message shows it: printable ASCII as itself, others as \xHH.
std::string shown(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, c);
  return fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
}

enum class LineStatus : std::uint8_t { kComplete, kIncomplete, kTooLong, kNoLf };

struct Line {
  LineStatus status;
  std::size_t end = 0;   // index of the first byte after the content
  std::size_t next = 0;  // index of the first byte after the terminator
};

// A header line starting at data[start]: at most max_bytes before a CR, then LF. Whether it
// is too long depends only on its bytes, never on how they arrived.
Line find_crlf_line(std::string_view data, std::size_t start, std::size_t max_bytes,
                    std::size_t& scanned) {
  const std::size_t available = data.size() - start;
  const std::size_t window = std::min(available, max_bytes + 1);
  const char* line = data.data() + start;
  const void* cr = scanned < window ? std::memchr(line + scanned, '\r', window - scanned) : nullptr;
  if (cr == nullptr) {
    scanned = window;
    return {available > max_bytes ? LineStatus::kTooLong : LineStatus::kIncomplete};
  }
  const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(cr) - line);
  scanned = at;  // the CR is found again once its LF arrives
  if (at + 1 == available) return {LineStatus::kIncomplete};
  scanned = 0;
  const LineStatus status = line[at + 1] == '\n' ? LineStatus::kComplete : LineStatus::kNoLf;
  return {status, start + at, start + at + 2};
}

// An inline request line starting at data[start]: ended by LF, one CR before it dropped, as
// Redis reads it (telnet sends CRLF, `printf 'PING\n' | nc` sends LF).
Line find_inline_line(std::string_view data, std::size_t start, std::size_t max_bytes,
                      std::size_t& scanned) {
  const std::size_t available = data.size() - start;
  const std::size_t window = std::min(available, max_bytes + 2);
  const char* line = data.data() + start;
  const void* lf = scanned < window ? std::memchr(line + scanned, '\n', window - scanned) : nullptr;
  if (lf == nullptr) {
    scanned = window;
    // max_bytes + 1 bytes are too many unless the last is the CR of a CRLF.
    const bool too_long =
        available >= max_bytes + 2 || (available == max_bytes + 1 && line[max_bytes] != '\r');
    return {too_long ? LineStatus::kTooLong : LineStatus::kIncomplete};
  }
  scanned = 0;
  const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(lf) - line);
  const std::size_t length = at > 0 && line[at - 1] == '\r' ? at - 1 : at;
  if (length > max_bytes) return {LineStatus::kTooLong};
  return {LineStatus::kComplete, start + length, start + at + 1};
}

// A header line "<type><body>\r\n" at data[pos], read with the stream's scan state.
struct HeaderLine {
  Step step = Step::kWait;     // kContinue: complete; kWait: not yet; kFailed: the stream failed
  std::string_view body = {};  // after the type byte, before the CR
  std::size_t next = 0;        // index of the first byte after the LF
};

// Fails the stream with `too_long` (at the line's start) when more than max_bytes come before
// the CR, and with "expected '\n' after '\r'" (at that byte) when the CR is not followed by LF.
HeaderLine header_line(detail::RespStream& stream, std::string_view data, std::size_t pos,
                       std::size_t max_bytes, std::string_view too_long) {
  const Line line = find_crlf_line(data, pos, max_bytes, stream.line_scanned);
  switch (line.status) {
    case LineStatus::kIncomplete:
      return {Step::kWait};
    case LineStatus::kTooLong:
      return {stream.fail(too_long, pos)};
    case LineStatus::kNoLf:
      return {stream.fail(
          fmt::format("expected '\\n' after '\\r', got '{}'", shown(data[line.end + 1])),
          line.end + 1)};
    case LineStatus::kComplete:
      break;
  }
  return {Step::kContinue, data.substr(pos + 1, line.end - pos - 1), line.next};
}

// A decimal integer as Redis's string2ll reads it: an optional '-', digits without a leading
// zero (but "0"), within long long. No sign '+', no spaces, no "-0".
std::optional<long long> parse_integer(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  const bool negative = text[0] == '-';
  std::string_view digits = text.substr(negative ? 1 : 0);
  if (digits.empty() || (digits[0] == '0' && text.size() > 1)) return std::nullopt;
  unsigned long long magnitude = 0;
  for (char c : digits) {  // at most 20 digits
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<unsigned long long>(c - '0');
    if (magnitude > (ULLONG_MAX - digit) / 10) return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  const auto max = static_cast<unsigned long long>(LLONG_MAX);
  if (!negative) {
    if (magnitude > max) return std::nullopt;
    return static_cast<long long>(magnitude);
  }
  if (magnitude > max + 1) return std::nullopt;
  return magnitude == max + 1 ? LLONG_MIN : -static_cast<long long>(magnitude);
}

// Moves bulk bytes from data[pos..] into dst until it holds `length`, then consumes the CRLF
// after them: kContinue once both are in, kWait until then. When the two bytes after the data
// are not CRLF, fails the stream naming the first of them.
Step take_bulk(detail::RespStream& stream, std::string_view data, std::size_t& pos,
               std::size_t length, std::string& dst) {
  const std::size_t take = std::min(length - dst.size(), data.size() - pos);
  dst.append(data.data() + pos, take);
  pos += take;
  if (dst.size() < length || data.size() - pos < 2) return Step::kWait;
  if (data[pos] != '\r' || data[pos + 1] != '\n') {
    return stream.fail("bulk data not followed by CRLF", pos);
  }
  pos += 2;
  return Step::kContinue;
}

// isspace() in the C locale.
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

char unescaped(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

constexpr std::size_t kSplitOk = std::string_view::npos;

// Splits an inline request as Redis's sdssplitargs does. Arguments are separated by
// whitespace; "double quotes" take \n \r \t \b \a \xHH and \<any> escapes; 'single quotes'
// take only \'; a closing quote must be followed by whitespace or the end; quotes may start
// mid-argument (a"b c" is `ab c`). Redis reads the line as a C string, so a NUL byte ends it.
// Returns the index of the offending quote, or kSplitOk. Every pass of either loop consumes a
// byte or ends, so both are bounded by the line's length.
std::size_t split_inline(std::string_view line, RespArgs& args) {
  auto at = [line](std::size_t i) { return i < line.size() ? line[i] : '\0'; };
  std::size_t i = 0;
  while (true) {
    while (at(i) != '\0' && is_space(at(i))) ++i;
    if (at(i) == '\0') return kSplitOk;
    std::string arg;
    char quote = '\0';  // the quote we are inside of, if any
    std::size_t quote_at = 0;
    for (bool done = false; !done;) {
      const char c = at(i);
      if (quote == '"' && c == '\\' && at(i + 1) == 'x' && is_hex(at(i + 2)) && is_hex(at(i + 3))) {
        arg.push_back(static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3))));
        i += 3;
      } else if (quote == '"' && c == '\\' && at(i + 1) != '\0') {
        arg.push_back(unescaped(at(++i)));
      } else if (quote == '\'' && c == '\\' && at(i + 1) == '\'') {
        arg.push_back(at(++i));
      } else if (quote != '\0' && c == quote) {
        if (at(i + 1) != '\0' && !is_space(at(i + 1))) return i;
        done = true;
      } else if (quote != '\0' && c == '\0') {
        return quote_at;
      } else if (quote != '\0') {
        arg.push_back(c);
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
        done = true;
      } else if (c == '"' || c == '\'') {
        quote = c;
        quote_at = i;
      } else {
        arg.push_back(c);
      }
      if (at(i) != '\0') ++i;
    }
    args.push_back(std::move(arg));
  }
}

}  // namespace

// --- RespStream ---

std::string_view detail::RespStream::begin(std::string_view bytes) {
  fed_ += bytes.size();
  parsing_held_ = !held_.empty();
  if (!parsing_held_) return bytes;
  held_.append(bytes);
  return held_;
}

Step detail::RespStream::fail(std::string_view what, std::size_t index) {
  error_ = invalid_argument(fmt::format("Protocol error: {} at byte {}", what, offset(index)));
  return Step::kFailed;
}

void detail::RespStream::end(std::string_view data, std::size_t consumed) {
  base_ += consumed;
  if (parsing_held_) {
    held_.erase(0, consumed);
  } else {
    held_.assign(data.substr(consumed));
  }
  // What stays held is at most a partial line; give back room a large feed left behind.
  if (held_.capacity() > 4 * limits::kRespMaxInlineBytes &&
      held_.size() <= limits::kRespMaxInlineBytes) {
    held_.shrink_to_fit();
  }
}

// --- RespRequestParser ---

RespRequestParser::RespRequestParser(RespLimits limits) : limits_(limits) {}

Status RespRequestParser::feed(std::string_view bytes, std::vector<RespArgs>& out) {
  return stream_.feed(
      bytes, [&](std::string_view data, std::size_t& pos) { return step(data, pos, out); });
}

std::size_t RespRequestParser::buffered_bytes() const {
  return static_cast<std::size_t>(stream_.fed() - request_start_);
}

Step RespRequestParser::step(std::string_view data, std::size_t& pos, std::vector<RespArgs>& out) {
  switch (phase_) {
    case Phase::kRequest:
      request_start_ = stream_.offset(pos);
      if (pos == data.size()) return Step::kWait;
      if (data[pos] == '*') return multibulk_count(data, pos);
      return inline_request(data, pos, out);
    case Phase::kBulkHeader:
      return bulk_header(data, pos);
    case Phase::kBulkData:
      return bulk_data(data, pos, out);
  }
  SPOFLESS_UNREACHABLE("a request parser phase");
  return Step::kFailed;
}

Step RespRequestParser::multibulk_count(std::string_view data, std::size_t& pos) {
  const HeaderLine line =
      header_line(stream_, data, pos, limits_.max_inline_bytes, "too big mbulk count string");
  if (line.step != Step::kContinue) return line.step;
  const auto count = parse_integer(line.body);
  if (!count || *count > static_cast<long long>(limits_.max_args)) {
    return stream_.fail("invalid multibulk length", pos);
  }
  pos = line.next;
  if (*count <= 0) return Step::kContinue;  // an empty request, skipped
  args_left_ = static_cast<std::size_t>(*count);
  args_.clear();
  args_.reserve(std::min(args_left_, kArgsReservedAhead));
  phase_ = Phase::kBulkHeader;
  return Step::kContinue;
}

Step RespRequestParser::inline_request(std::string_view data, std::size_t& pos,
                                       std::vector<RespArgs>& out) {
  const Line line = find_inline_line(data, pos, limits_.max_inline_bytes, stream_.line_scanned);
  if (line.status == LineStatus::kIncomplete) return Step::kWait;
  if (line.status == LineStatus::kTooLong) {
    return stream_.fail("too big inline request", pos);
  }
  RespArgs args;
  const std::size_t bad_quote = split_inline(data.substr(pos, line.end - pos), args);
  if (bad_quote != kSplitOk) {
    return stream_.fail("unbalanced quotes in request", pos + bad_quote);
  }
  pos = line.next;
  if (!args.empty()) out.push_back(std::move(args));
  return Step::kContinue;
}

Step RespRequestParser::bulk_header(std::string_view data, std::size_t& pos) {
  if (pos == data.size()) return Step::kWait;
  if (data[pos] != '$') {
    return stream_.fail(fmt::format("expected '$', got '{}'", shown(data[pos])), pos);
  }
  const HeaderLine line =
      header_line(stream_, data, pos, limits_.max_inline_bytes, "too big bulk count string");
  if (line.step != Step::kContinue) return line.step;
  const auto length = parse_integer(line.body);
  if (!length || *length < 0 || *length > static_cast<long long>(limits_.max_bulk_bytes)) {
    return stream_.fail("invalid bulk length", pos);
  }
  bulk_length_ = static_cast<std::size_t>(*length);
  const std::uint64_t request_end = stream_.offset(line.next) + bulk_length_ + 2;
  if (request_end - request_start_ > limits_.max_message_bytes) {
    return stream_.fail(fmt::format("request bigger than {} bytes", limits_.max_message_bytes),
                        pos);
  }
  pos = line.next;
  args_.emplace_back();
  phase_ = Phase::kBulkData;
  return Step::kContinue;
}

Step RespRequestParser::bulk_data(std::string_view data, std::size_t& pos,
                                  std::vector<RespArgs>& out) {
  const Step taken = take_bulk(stream_, data, pos, bulk_length_, args_.back());
  if (taken != Step::kContinue) return taken;
  if (--args_left_ > 0) {
    phase_ = Phase::kBulkHeader;
    return Step::kContinue;
  }
  out.push_back(std::move(args_));
  args_ = RespArgs();
  phase_ = Phase::kRequest;
  return Step::kContinue;
}

// --- RespValue ---

bool RespValue::operator==(const RespValue& other) const {
  if (kind != other.kind) return false;
  switch (kind) {
    case Kind::kSimple:
    case Kind::kError:
    case Kind::kBulk:
      return str == other.str;
    case Kind::kInteger:
      return integer == other.integer;
    case Kind::kNull:
    case Kind::kNullArray:
      return true;
    case Kind::kArray:
      return elements == other.elements;
  }
  return false;
}

std::string RespValue::to_string() const {
  switch (kind) {
    case Kind::kSimple:
      return "+" + str;
    case Kind::kError:
      return "-" + str;
    case Kind::kInteger:
      return ":" + std::to_string(integer);
    case Kind::kNull:
      return "(nil)";
    case Kind::kNullArray:
      return "(nil array)";
    case Kind::kBulk: {
      std::string quoted = "\"";
      for (char c : str) {
        if (c == '"' || c == '\\') {
          quoted += '\\';
          quoted += c;
        } else if (c == '\r' || c == '\n' || c == '\t') {
          quoted += c == '\r' ? "\\r" : c == '\n' ? "\\n" : "\\t";
        } else {
          quoted += shown(c);
        }
      }
      return quoted + "\"";
    }
    case Kind::kArray: {
      // Recurses as deep as the value nests: parsed values nest at most kRespMaxNesting.
      std::string list = "[";
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) list += ", ";
        list += elements[i].to_string();
      }
      return list + "]";
    }
  }
  return "?";
}

namespace {

RespValue make_value(RespValue::Kind kind, std::string str = {}, long long integer = 0) {
  RespValue v;
  v.kind = kind;
  v.str = std::move(str);
  v.integer = integer;
  return v;
}

}  // namespace

RespValue resp_simple(std::string text) {
  return make_value(RespValue::Kind::kSimple, std::move(text));
}
RespValue resp_error(std::string message) {
  return make_value(RespValue::Kind::kError, std::move(message));
}
RespValue resp_integer(long long n) { return make_value(RespValue::Kind::kInteger, {}, n); }
RespValue resp_bulk(std::string bytes) {
  return make_value(RespValue::Kind::kBulk, std::move(bytes));
}
RespValue resp_null() { return make_value(RespValue::Kind::kNull); }
RespValue resp_null_array() { return make_value(RespValue::Kind::kNullArray); }
RespValue resp_array(std::vector<RespValue> elements) {
  RespValue v = make_value(RespValue::Kind::kArray);
  v.elements = std::move(elements);
  return v;
}

// --- RespWriter ---

void RespWriter::line(char type, std::string_view text) {
  out_ += type;
  const std::size_t from = out_.size();
  out_ += text;
  std::replace_if(
      out_.begin() + static_cast<std::ptrdiff_t>(from), out_.end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out_ += "\r\n";
}

void RespWriter::header(char type, long long n) {
  char buffer[24];
  buffer[0] = type;
  const auto result = std::to_chars(buffer + 1, buffer + sizeof(buffer) - 2, n);
  char* end = result.ptr;
  *end++ = '\r';
  *end++ = '\n';
  out_.append(buffer, end);
}

void RespWriter::simple(std::string_view text) { line('+', text); }
void RespWriter::error(std::string_view message) { line('-', message); }
void RespWriter::integer(long long n) { header(':', n); }
void RespWriter::null() { out_ += "$-1\r\n"; }
void RespWriter::null_array() { out_ += "*-1\r\n"; }
void RespWriter::array(std::size_t n) { header('*', static_cast<long long>(n)); }

void RespWriter::bulk(std::string_view bytes) {
  header('$', static_cast<long long>(bytes.size()));
  out_ += bytes;
  out_ += "\r\n";
}

void RespWriter::value(const RespValue& v) { value_at_depth(v, 0); }

void RespWriter::value_at_depth(const RespValue& v, std::size_t depth) {
  switch (v.kind) {
    case RespValue::Kind::kSimple:
      return simple(v.str);
    case RespValue::Kind::kError:
      return error(v.str);
    case RespValue::Kind::kInteger:
      return integer(v.integer);
    case RespValue::Kind::kBulk:
      return bulk(v.str);
    case RespValue::Kind::kNull:
      return null();
    case RespValue::Kind::kNullArray:
      return null_array();
    case RespValue::Kind::kArray:
      SPOFLESS_CHECK(depth < limits::kRespMaxNesting, "a written value nests within the limit");
      array(v.elements.size());
      for (const RespValue& e : v.elements) value_at_depth(e, depth + 1);
      return;
  }
}

void RespWriter::request(const RespArgs& argv) {
  array(argv.size());
  for (const std::string& arg : argv) bulk(arg);
}

void RespWriter::request(std::initializer_list<std::string_view> argv) {
  array(argv.size());
  for (std::string_view arg : argv) bulk(arg);
}

// --- RespReplyParser ---

RespReplyParser::RespReplyParser(RespLimits limits) : limits_(limits) {}

Status RespReplyParser::feed(std::string_view bytes, std::vector<RespValue>& out) {
  return stream_.feed(
      bytes, [&](std::string_view data, std::size_t& pos) { return step(data, pos, out); });
}

std::size_t RespReplyParser::buffered_bytes() const {
  return static_cast<std::size_t>(stream_.fed() - reply_start_);
}

Step RespReplyParser::step(std::string_view data, std::size_t& pos, std::vector<RespValue>& out) {
  if (phase_ == Phase::kBulkData) return bulk_data(data, pos, out);
  if (open_.empty()) {
    reply_start_ = stream_.offset(pos);
    values_ = 0;
  }
  return header(data, pos, out);
}

Step RespReplyParser::header(std::string_view data, std::size_t& pos, std::vector<RespValue>& out) {
  if (pos == data.size()) return Step::kWait;
  const char type = data[pos];
  if (std::strchr("+-:$*", type) == nullptr || type == '\0') {
    return stream_.fail(fmt::format("expected a reply type (+ - : $ *), got '{}'", shown(type)),
                        pos);
  }
  const HeaderLine line =
      header_line(stream_, data, pos, limits_.max_inline_bytes, "too big reply line");
  if (line.step != Step::kContinue) return line.step;
  const std::size_t at = pos;
  if (++values_ > limits_.max_args) {
    return stream_.fail(fmt::format("reply holds more than {} values", limits_.max_args), at);
  }
  std::optional<long long> n;
  if (type == ':' || type == '$' || type == '*') {
    n = parse_integer(line.body);
    if (!n) {
      return stream_.fail(type == ':'   ? "invalid integer"
                          : type == '$' ? "invalid bulk length"
                                        : "invalid multibulk length",
                          at);
    }
  }
  const bool bulk_follows = type == '$' && *n >= 0;
  const std::uint64_t data_bytes = bulk_follows ? static_cast<std::uint64_t>(*n) + 2 : 0;
  if (bulk_follows && *n > static_cast<long long>(limits_.max_bulk_bytes)) {
    return stream_.fail("invalid bulk length", at);
  }
  if (stream_.offset(line.next) + data_bytes - reply_start_ > limits_.max_message_bytes) {
    return stream_.fail(fmt::format("reply bigger than {} bytes", limits_.max_message_bytes), at);
  }
  pos = line.next;
  switch (type) {
    case '+':
      complete(resp_simple(std::string(line.body)), out);
      return Step::kContinue;
    case '-':
      complete(resp_error(std::string(line.body)), out);
      return Step::kContinue;
    case ':':
      complete(resp_integer(*n), out);
      return Step::kContinue;
    case '$':
      if (*n < -1) return stream_.fail("invalid bulk length", at);
      if (*n == -1) {
        complete(resp_null(), out);
        return Step::kContinue;
      }
      bulk_length_ = static_cast<std::size_t>(*n);
      bulk_.clear();
      phase_ = Phase::kBulkData;
      return Step::kContinue;
    default:
      return open_array(*n, at, out);
  }
}

Step RespReplyParser::open_array(long long n, std::size_t header_at, std::vector<RespValue>& out) {
  if (n < -1 || n > static_cast<long long>(limits_.max_args)) {
    return stream_.fail("invalid multibulk length", header_at);
  }
  if (n == -1) {
    complete(resp_null_array(), out);
    return Step::kContinue;
  }
  // An empty array is a level too: the writer, and whoever recurses over the value, sees it.
  if (open_.size() == limits::kRespMaxNesting) {
    return stream_.fail(fmt::format("arrays nested deeper than {}", limits::kRespMaxNesting),
                        header_at);
  }
  if (n == 0) {
    complete(resp_array({}), out);
    return Step::kContinue;
  }
  open_.push_back({resp_array({}), static_cast<std::size_t>(n)});
  open_.back().array.elements.reserve(std::min(open_.back().left, kArgsReservedAhead));
  return Step::kContinue;
}

Step RespReplyParser::bulk_data(std::string_view data, std::size_t& pos,
                                std::vector<RespValue>& out) {
  const Step taken = take_bulk(stream_, data, pos, bulk_length_, bulk_);
  if (taken != Step::kContinue) return taken;
  phase_ = Phase::kHeader;
  complete(resp_bulk(std::move(bulk_)), out);
  bulk_ = std::string();
  return Step::kContinue;
}

void RespReplyParser::complete(RespValue v, std::vector<RespValue>& out) {
  while (!open_.empty()) {  // at most kRespMaxNesting levels
    Frame& top = open_.back();
    top.array.elements.push_back(std::move(v));
    if (--top.left > 0) return;
    v = std::move(top.array);
    open_.pop_back();
  }
  out.push_back(std::move(v));
}

}  // namespace spofless::proto
