#include "kv/integer.h"

#include <limits>

namespace spofless::kv {
namespace {

// The longest decimal text of a 64-bit integer: "-9223372036854775808" and
// "18446744073709551615" both have 20 characters.
constexpr std::size_t kMaxDigitsText = 20;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The value of `digits` (all digits, at most kMaxDigitsText of them), or nothing on overflow.
std::optional<std::uint64_t> accumulate(std::string_view digits) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> parse_int64(std::string_view text) {
  if (text.empty() || text.size() > kMaxDigitsText) return std::nullopt;
  if (text == "0") return 0;
  const bool negative = text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.front() < '1' || digits.front() > '9') return std::nullopt;
  auto magnitude = accumulate(digits);
  if (!magnitude) return std::nullopt;
  constexpr auto kMaxPositive =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!negative) {
    if (*magnitude > kMaxPositive) return std::nullopt;
    return static_cast<std::int64_t>(*magnitude);
  }
  if (*magnitude > kMaxPositive + 1) return std::nullopt;
  if (*magnitude == kMaxPositive + 1) return std::numeric_limits<std::int64_t>::min();
  return -static_cast<std::int64_t>(*magnitude);
}

std::optional<std::uint64_t> parse_uint64(std::string_view text) {
  // Leading zeros are allowed, so only the digits after them are bounded.
  std::size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == '0') ++zeros;
  if (text.empty() || text.size() - zeros > kMaxDigitsText) return std::nullopt;
  return accumulate(text);
}

}  // namespace spofless::kv
