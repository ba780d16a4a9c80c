#pragma once

// Integers as Redis reads and writes them in strings and arguments.

#include <cstdint>
#include <optional>
#include <string_view>

namespace spofless::kv {

// A signed 64-bit integer written the one way Redis accepts (its string2ll): an optional '-',
// then digits without leading zeros ("0" alone excepted), at most 20 characters, in range.
// Nothing for "", "+1", " 1", "01", "-0", "1.0" or 2^63.
std::optional<std::int64_t> parse_int64(std::string_view text);

// An unsigned 64-bit decimal: one or more digits, no sign, leading zeros allowed, in range.
// SCAN cursors and session numbers.
std::optional<std::uint64_t> parse_uint64(std::string_view text);

}  // namespace spofless::kv
