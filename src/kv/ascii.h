#pragma once

// ASCII case folding, as Redis compares command names and options (strcasecmp).

#include <algorithm>
#include <string_view>

namespace spofless::kv {

inline bool equals_ignore_case(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace spofless::kv
