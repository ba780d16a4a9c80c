#include "obs/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace spofless::obs {
namespace {

// 2026-11-22T01:02:03.456Z
std::chrono::system_clock::time_point fixed_time() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 22} + hours{1} + minutes{2} + seconds{3} + milliseconds{456};
}

TEST(LogFormat, TextIsOneLogfmtLine) {
  std::string line = format_event(LogFormat::kText, fixed_time(), LogLevel::kInfo, "db",
                                  "raft.elected", {{"term", 7}, {"node", "n1"}, {"ok", true}});
  EXPECT_EQ(line, "2026-11-22T01:02:03.456Z info db raft.elected term=7 node=n1 ok=true");
}

TEST(LogFormat, TextQuotesValuesThatWouldBreakTheLine) {
  std::string line = format_event(LogFormat::kText, fixed_time(), LogLevel::kWarn, "lb",
                                  "check.failed", {{"reason", "connect refused\nby \"peer\""}});
  EXPECT_EQ(line,
            "2026-11-22T01:02:03.456Z warn lb check.failed "
            "reason=\"connect refused\\nby \\\"peer\\\"\"");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogFormat, JsonIsOneParsableObjectWithTypedFields) {
  std::string line =
      format_event(LogFormat::kJson, fixed_time(), LogLevel::kError, "web", "db.unavailable",
                   {{"attempt", 3}, {"latency_ms", 12.5}, {"peer", "127.0.0.1:7001"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2026-11-22T01:02:03.456Z");
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["role"], "web");
  EXPECT_EQ(j["event"], "db.unavailable");
  EXPECT_EQ(j["attempt"], 3);
  EXPECT_DOUBLE_EQ(j["latency_ms"].get<double>(), 12.5);
  EXPECT_EQ(j["peer"], "127.0.0.1:7001");
}

TEST(LogFormat, JsonReplacesInvalidUtf8InsteadOfFailing) {
  std::string line =
      format_event(LogFormat::kJson, fixed_time(), LogLevel::kInfo, "db", "resp.bad_key",
                   {{"key", std::string("a\xff"
                                        "b")}});
  EXPECT_TRUE(nlohmann::json::accept(line));
}

TEST(LogFormat, TextQuotesAndRepairsBytesThatAreNotUtf8) {
  std::string line =
      format_event(LogFormat::kText, fixed_time(), LogLevel::kInfo, "db", "resp.bad_key",
                   {{"key", std::string("a\xff"
                                        "b")}});
  EXPECT_EQ(line,
            "2026-11-22T01:02:03.456Z info db resp.bad_key key=\"a\xef\xbf\xbd"
            "b\"");
}

TEST(LogFormat, LongValuesAreClippedOnACharacterBoundary) {
  std::string value(4095, 'x');
  value += "\xc3\xa9\xc3\xa9";  // two-byte characters straddling the 4 KiB limit
  std::string line =
      format_event(LogFormat::kJson, fixed_time(), LogLevel::kInfo, "db", "big", {{"v", value}});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["v"].get<std::string>(), std::string(4095, 'x') + "...");
}

TEST(LogFormat, ParsesFlagsAndRefusesOthersByName) {
  EXPECT_EQ(*parse_log_format("json"), LogFormat::kJson);
  EXPECT_EQ(*parse_log_level("warn"), LogLevel::kWarn);
  auto bad = parse_log_format("xml");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("'xml'"), std::string::npos);
}

}  // namespace
}  // namespace spofless::obs
