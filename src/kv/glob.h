#pragma once

// The glob patterns of SCAN ... MATCH, with the semantics of Redis's stringmatchlen():
//   *      any run of bytes          ?      any one byte
//   [abc]  one of the bytes          [^ab]  any byte but these (also [^...] at the end)
//   [a-z]  a byte in the range (the ends may come in either order)
//   \x     the byte x, outside and inside brackets
// Redis's quirks are kept, so that MATCH answers as redis-server does: an empty key matches
// only the empty pattern; a '[' without ']' runs to the end of the pattern; in "[a-]" the ']'
// ends a range and the class goes on. Bytes compare as unsigned (Redis on x86 compares ranges
// as signed char, on ARM as unsigned: a range over bytes >= 0x80 is the only difference).

#include <cstdint>
#include <string_view>
#include <vector>

namespace spofless::kv {

// A pattern compiled once for a SCAN call. Thread: any; immutable after construction.
class GlobPattern {
 public:
  explicit GlobPattern(std::string_view pattern);

  // O(pattern * text) time at worst, no recursion.
  bool matches(std::string_view text) const;

 private:
  struct Range {
    std::uint8_t low;
    std::uint8_t high;
  };
  struct Token {
    enum class Kind : std::uint8_t { kStar, kAny, kByte, kClass };
    Kind kind = Kind::kByte;
    std::uint8_t byte = 0;  // kByte
    bool negated = false;   // kClass
    std::size_t first = 0;  // kClass: ranges_[first, first + count)
    std::size_t count = 0;
  };

  std::size_t parse_class(std::string_view pattern, std::size_t i, Token& token);
  bool token_matches(const Token& token, std::uint8_t c) const;

  bool empty_ = true;  // the pattern's text was empty
  std::vector<Token> tokens_;
  std::vector<Range> ranges_;
};

}  // namespace spofless::kv
