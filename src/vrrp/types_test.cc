#include "vrrp/types.h"

#include <gtest/gtest.h>

namespace spofless::vrrp {
namespace {

TEST(Ipv4, ParsesDottedQuadsAndPrintsThemBack) {
  auto a = parse_ipv4("198.51.100.7");
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(a->value, 0xC6336407u);
  EXPECT_EQ(to_string(*a), "198.51.100.7");
  EXPECT_EQ(to_string(kVrrpGroup), "224.0.0.18");
  EXPECT_LT(*parse_ipv4("198.51.100.7"), *parse_ipv4("198.51.100.10"));  // numeric order
}

TEST(Ipv4, RefusesWhatIsNotADottedQuad) {
  EXPECT_EQ(parse_ipv4("198.51.100", "--vip").status().message(),
            "--vip '198.51.100': expected four parts a.b.c.d");
  EXPECT_EQ(parse_ipv4("198.51.100.256").status().message(),
            "IPv4 address '198.51.100.256': part 4 is above 255");
  EXPECT_EQ(parse_ipv4("198.051.100.1").status().message(),
            "IPv4 address '198.051.100.1': part 2 has a leading zero");
  EXPECT_EQ(parse_ipv4("198..100.1").status().message(),
            "IPv4 address '198..100.1': part 2 is not a number");
  EXPECT_EQ(parse_ipv4("198.51.100.1 ").status().message(),
            "IPv4 address '198.51.100.1 ': expected four parts a.b.c.d");
  EXPECT_EQ(parse_ipv4("99999999999.1.1.1").status().message(),
            "IPv4 address '99999999999.1.1.1': part 1 is above 255");
}

}  // namespace
}  // namespace spofless::vrrp
