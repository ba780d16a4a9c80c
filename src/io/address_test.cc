#include "io/address.h"

#include <gtest/gtest.h>

namespace spofless::io {
namespace {

TEST(ParseListenAddress, AcceptsIpv4LiteralAndPort) {
  auto endpoint = parse_listen_address("127.0.0.2:9100");
  ASSERT_TRUE(endpoint.is_ok()) << endpoint.status().to_string();
  EXPECT_EQ(to_string(*endpoint), "127.0.0.2:9100");
}

TEST(ParseListenAddress, LocalhostIsTheIpv4Loopback) {
  auto endpoint = parse_listen_address("localhost:80");
  ASSERT_TRUE(endpoint.is_ok());
  EXPECT_EQ(to_string(*endpoint), "127.0.0.1:80");
}

TEST(ParseListenAddress, PortZeroAsksForAnEphemeralPort) {
  auto endpoint = parse_listen_address("0.0.0.0:0");
  ASSERT_TRUE(endpoint.is_ok());
  EXPECT_EQ(endpoint->port(), 0);
}

TEST(ParseListenAddress, PortBoundsAreInclusive) {
  EXPECT_TRUE(parse_listen_address("127.0.0.1:65535").is_ok());
  EXPECT_FALSE(parse_listen_address("127.0.0.1:65536").is_ok());
}

TEST(ParseListenAddress, MissingPortNamesTheExpectedForm) {
  auto endpoint = parse_listen_address("127.0.0.1", "admin address");
  ASSERT_FALSE(endpoint.is_ok());
  EXPECT_EQ(endpoint.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(endpoint.status().message(), "admin address '127.0.0.1': expected HOST:PORT");
}

TEST(ParseListenAddress, EmptyHostIsRefused) {
  auto endpoint = parse_listen_address(":9100", "admin address");
  ASSERT_FALSE(endpoint.is_ok());
  EXPECT_EQ(endpoint.status().message(),
            "admin address ':9100': the host before ':' is empty");
}

TEST(ParseListenAddress, BadHostIsNamed) {
  for (std::string_view text : {"example.com:80", "[::1]:80", "::1:80", "300.1.1.1:80"}) {
    auto endpoint = parse_listen_address(text, "admin address");
    ASSERT_FALSE(endpoint.is_ok()) << text;
    EXPECT_NE(endpoint.status().message().find("is not an IPv4 address or 'localhost'"),
              std::string::npos)
        << endpoint.status().message();
  }
}

TEST(ParseListenAddress, BadPortIsNamed) {
  for (std::string_view text : {"127.0.0.1:", "127.0.0.1:http", "127.0.0.1:-1", "127.0.0.1:80x",
                                "127.0.0.1: 80", "127.0.0.1:99999999999"}) {
    auto endpoint = parse_listen_address(text, "admin address");
    ASSERT_FALSE(endpoint.is_ok()) << text;
    EXPECT_EQ(endpoint.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(endpoint.status().message().find("is not a number in 0..65535"), std::string::npos)
        << endpoint.status().message();
  }
}

}  // namespace
}  // namespace spofless::io
