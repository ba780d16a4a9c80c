#include "core/result.h"

#include <string>

#include <gtest/gtest.h>

namespace spofless {
namespace {

Result<int> parse_port(const std::string& text) {
  if (text.empty()) return invalid_argument("empty port");
  return std::stoi(text);
}

TEST(Result, HoldsValue) {
  auto port = parse_port("8080");
  ASSERT_TRUE(port.is_ok());
  EXPECT_EQ(*port, 8080);
  EXPECT_TRUE(port.status().is_ok());
}

TEST(Result, HoldsErrorWithCodeAndMessage) {
  auto port = parse_port("");
  ASSERT_FALSE(port.is_ok());
  EXPECT_EQ(port.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(port.status().to_string(), "invalid_argument: empty port");
}

TEST(Status, RetryableOnlyForTransientCodes) {
  EXPECT_TRUE(unavailable("no leader").retryable());
  EXPECT_TRUE(resource_exhausted("queue full").retryable());
  EXPECT_FALSE(invalid_argument("bad key").retryable());
  EXPECT_FALSE(Status(StatusCode::kDataLoss, "crc").retryable());
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  auto port = parse_port("");
  EXPECT_DEATH((void)port.value(), "value\\(\\) of an error Result");
}

}  // namespace
}  // namespace spofless
