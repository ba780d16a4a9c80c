// SCAN ... MATCH patterns, as Redis's stringmatchlen() (util.c) answers them, including its
// quirks, and against a plain recursive matcher on generated patterns.

#include "kv/glob.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace spofless::kv {
namespace {

bool match(std::string_view pattern, std::string_view text) {
  return GlobPattern(pattern).matches(text);
}

TEST(KvGlob, Literals) {
  EXPECT_TRUE(match("hello", "hello"));
  EXPECT_FALSE(match("hello", "hell"));
  EXPECT_FALSE(match("hell", "hello"));
  EXPECT_TRUE(match("", ""));
}

// The examples of the KEYS command's documentation (redis.io/commands/keys).
TEST(KvGlob, RedisDocumentationExamples) {
  EXPECT_TRUE(match("h?llo", "hello"));
  EXPECT_TRUE(match("h?llo", "hallo"));
  EXPECT_TRUE(match("h?llo", "hxllo"));
  EXPECT_TRUE(match("h*llo", "hllo"));
  EXPECT_TRUE(match("h*llo", "heeeello"));
  EXPECT_TRUE(match("h[ae]llo", "hello"));
  EXPECT_TRUE(match("h[ae]llo", "hallo"));
  EXPECT_FALSE(match("h[ae]llo", "hillo"));
  EXPECT_TRUE(match("h[^e]llo", "hallo"));
  EXPECT_TRUE(match("h[^e]llo", "hbllo"));
  EXPECT_FALSE(match("h[^e]llo", "hello"));
  EXPECT_TRUE(match("h[a-b]llo", "hallo"));
  EXPECT_TRUE(match("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(match("h[a-b]llo", "hcllo"));
}

TEST(KvGlob, Stars) {
  EXPECT_TRUE(match("*", "anything"));
  EXPECT_TRUE(match("a*", "a"));
  EXPECT_TRUE(match("a**b", "ab"));
  EXPECT_TRUE(match("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(match("*a*b*", "xxbxxaxx"));
  EXPECT_TRUE(match("user:*:name", "user:42:name"));
  EXPECT_FALSE(match("user:*:name", "user:42:names"));
}

TEST(KvGlob, Escapes) {
  EXPECT_TRUE(match("a\\*b", "a*b"));
  EXPECT_FALSE(match("a\\*b", "axb"));
  EXPECT_TRUE(match("\\?", "?"));
  EXPECT_TRUE(match("[\\]]", "]"));
  EXPECT_TRUE(match("[\\-]", "-"));
  EXPECT_TRUE(match("a\\", "a\\"));  // a trailing backslash stands for itself
}

TEST(KvGlob, RangesComeInEitherOrder) {
  EXPECT_TRUE(match("[z-a]", "m"));
  EXPECT_FALSE(match("[z-a]", "A"));
  EXPECT_TRUE(match("[0-9a-f]x", "cx"));
}

// The quirks of stringmatchlen(), kept so that MATCH answers as redis-server does.
TEST(KvGlob, RedisQuirks) {
  EXPECT_FALSE(match("*", ""));  // an empty key matches only the empty pattern
  EXPECT_FALSE(match("a*", ""));
  EXPECT_FALSE(match("[]", "]"));   // an empty class matches nothing
  EXPECT_TRUE(match("[abc", "b"));  // an unterminated class runs to the end
  EXPECT_FALSE(match("[", "["));
  EXPECT_TRUE(match("[^", "x"));
  // "[a-]": the ']' ends the range a..']', and the class goes on to the next ']'.
  EXPECT_TRUE(match("[a-]x]", "_"));
  EXPECT_TRUE(match("[a-]x]", "x"));
  EXPECT_FALSE(match("[a-]x]", "b"));
}

// A reference matcher written from the rules, recursive and exponential at worst: fine for
// the short patterns generated here.
bool reference(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (reference(p.substr(1), s.substr(i))) return true;
    }
    return false;
  }
  if (s.empty()) return false;
  if (p[0] == '?') return reference(p.substr(1), s.substr(1));
  if (p[0] == '\\' && p.size() >= 2) return p[1] == s[0] && reference(p.substr(2), s.substr(1));
  return p[0] == s[0] && reference(p.substr(1), s.substr(1));
}

// Without brackets, Redis's patterns are the textbook globs, except for the empty key.
RC_GTEST_PROP(KvGlobProperty, AgreesWithAReferenceMatcher, ()) {
  const auto alphabet = rc::gen::element('a', 'b', '*', '?', '\\');
  const auto pattern =
      *rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(0, 8), alphabet);
  const auto text = *rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(0, 8),
                                                     rc::gen::element('a', 'b', '*', '?'));
  const bool expected = text.empty() ? pattern.empty() : reference(pattern, text);
  RC_ASSERT(GlobPattern(pattern).matches(text) == expected);
}

}  // namespace
}  // namespace spofless::kv
