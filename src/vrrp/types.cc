#include "vrrp/types.h"

#include <charconv>

#include <fmt/format.h>

namespace spofless::vrrp {

Result<Ipv4> parse_ipv4(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Status(StatusCode::kInvalidArgument, fmt::format("{} '{}': {}", what, text, why));
  };
  std::uint32_t value = 0;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return bad("expected four parts a.b.c.d");
      ++pos;
    }
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    const std::string_view digits = text.substr(start, pos - start);
    if (digits.empty()) return bad(fmt::format("part {} is not a number", part + 1));
    if (digits.size() > 1 && digits[0] == '0') {
      return bad(fmt::format("part {} has a leading zero", part + 1));
    }
    unsigned n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n > 255) {
      return bad(fmt::format("part {} is above 255", part + 1));
    }
    value = (value << 8) | n;
  }
  if (pos != text.size()) return bad("expected four parts a.b.c.d");
  return Ipv4{value};
}

std::string to_string(Ipv4 address) {
  const std::uint32_t v = address.value;
  return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF);
}

std::string_view to_string(State state) {
  switch (state) {
    case State::kInitialize:
      return "initialize";
    case State::kBackup:
      return "backup";
    case State::kMaster:
      return "master";
  }
  return "unknown";
}

}  // namespace spofless::vrrp
