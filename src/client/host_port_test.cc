#include "client/host_port.h"

#include <gtest/gtest.h>

namespace spofless::client {
namespace {

TEST(HostPortTest, ParsesHostAndPort) {
  auto parsed = parse_host_port("127.0.0.1:6379");
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(*parsed, (HostPort{"127.0.0.1", 6379}));
  EXPECT_EQ(parsed->to_string(), "127.0.0.1:6379");
}

TEST(HostPortTest, KeepsHostNamesForTheResolver) {
  auto parsed = parse_host_port("db-1.internal:7001");
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->host, "db-1.internal");
}

TEST(HostPortTest, RefusesWhatIsNotHostColonPortNamingTheField) {
  EXPECT_EQ(parse_host_port("db-1", "node 2").status().message(),
            "node 2 'db-1': expected HOST:PORT");
  EXPECT_EQ(parse_host_port(":7001").status().message(),
            "address ':7001': the host before ':' is empty");
  EXPECT_EQ(parse_host_port("h:0").status().message(),
            "address 'h:0': port '0' at byte 2 is not a number in 1..65535");
  EXPECT_EQ(parse_host_port("h:65536").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_host_port("h:12x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_host_port("h:").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace spofless::client
