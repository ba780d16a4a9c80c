#include "kv/glob.h"

#include <utility>

namespace spofless::kv {

GlobPattern::GlobPattern(std::string_view pattern) : empty_(pattern.empty()) {
  std::size_t i = 0;
  while (i < pattern.size()) {  // every step consumes at least one byte of the pattern
    Token token;
    const char c = pattern[i];
    if (c == '*') {
      token.kind = Token::Kind::kStar;
      ++i;
      if (!tokens_.empty() && tokens_.back().kind == Token::Kind::kStar) continue;
    } else if (c == '?') {
      token.kind = Token::Kind::kAny;
      ++i;
    } else if (c == '[') {
      i = parse_class(pattern, i + 1, token);
    } else if (c == '\\' && i + 1 < pattern.size()) {
      token.byte = static_cast<std::uint8_t>(pattern[i + 1]);
      i += 2;
    } else {  // a plain byte, or a '\' that ends the pattern and stands for itself
      token.byte = static_cast<std::uint8_t>(c);
      ++i;
    }
    tokens_.push_back(token);
  }
}

// Reads a class whose first byte after '[' is at `i`; returns the index after its ']' (or the
// pattern's end). The order of the tests is Redis's: an escape, then ']', then a range.
std::size_t GlobPattern::parse_class(std::string_view pattern, std::size_t i, Token& token) {
  token.kind = Token::Kind::kClass;
  token.first = ranges_.size();
  if (i < pattern.size() && pattern[i] == '^') {
    token.negated = true;
    ++i;
  }
  while (i < pattern.size()) {  // every step consumes at least one byte of the pattern
    const auto byte = [&](std::size_t at) { return static_cast<std::uint8_t>(pattern[at]); };
    if (pattern[i] == '\\' && pattern.size() - i >= 2) {
      ranges_.push_back({byte(i + 1), byte(i + 1)});
      i += 2;
    } else if (pattern[i] == ']') {
      ++i;
      break;
    } else if (pattern.size() - i >= 3 && pattern[i + 1] == '-') {
      auto low = byte(i);
      auto high = byte(i + 2);
      if (low > high) std::swap(low, high);
      ranges_.push_back({low, high});
      i += 3;
    } else {
      ranges_.push_back({byte(i), byte(i)});
      ++i;
    }
  }
  token.count = ranges_.size() - token.first;
  return i;
}

bool GlobPattern::token_matches(const Token& token, std::uint8_t c) const {
  switch (token.kind) {
    case Token::Kind::kAny:
      return true;
    case Token::Kind::kByte:
      return token.byte == c;
    case Token::Kind::kClass: {
      bool in = false;
      for (std::size_t r = token.first; r < token.first + token.count && !in; ++r) {
        in = ranges_[r].low <= c && c <= ranges_[r].high;
      }
      return in != token.negated;
    }
    case Token::Kind::kStar:
      break;
  }
  return false;
}

// Every token but '*' consumes exactly one byte, so on a mismatch it is enough to retry from
// the last '*' with one more byte given to it: the classic greedy match with one backtrack
// point, which finds a match whenever Redis's recursive search does.
bool GlobPattern::matches(std::string_view text) const {
  if (text.empty()) return empty_;
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t t = 0;
  std::size_t s = 0;
  std::size_t star = kNone;
  std::size_t star_s = 0;
  while (s < text.size()) {  // each step advances s, or t with s fixed, or star_s
    if (t < tokens_.size() && tokens_[t].kind == Token::Kind::kStar) {
      star = t++;
      star_s = s;
    } else if (t < tokens_.size() &&
               token_matches(tokens_[t], static_cast<std::uint8_t>(text[s]))) {
      ++t;
      ++s;
    } else if (star != kNone) {
      t = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (t < tokens_.size() && tokens_[t].kind == Token::Kind::kStar) ++t;
  return t == tokens_.size();
}

}  // namespace spofless::kv
