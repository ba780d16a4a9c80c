// The split-brain guard's 24-byte messages: known bytes both ways, and every malformed field
// named with its byte.

#include "proto/quorum.h"

#include <gtest/gtest.h>

namespace spofless::proto {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

constexpr vrrp::Ipv4 kA{0xC6336401};  // 198.51.100.1
constexpr vrrp::Ipv4 kW{0xC6336409};  // 198.51.100.9

// "SPFQ", v1, ask, VRID 51, no flags, from .1 to .9, seq 7, priority 150.
const std::string kAsk =
    from_hex("53504651" "01" "01" "33" "00" "c6336401" "c6336409" "0000000000000007" "96" "000000");
// "SPFQ", v1, grant, VRID 51, granted, from .9 to .1, seq 7, contender 200.
const std::string kGrant =
    from_hex("53504651" "01" "02" "33" "01" "c6336409" "c6336401" "0000000000000007" "c8" "000000");
// "SPFQ", v1, release, VRID 51, from .1 to .9, seq 8.
const std::string kRelease =
    from_hex("53504651" "01" "03" "33" "00" "c6336401" "c6336409" "0000000000000008" "00" "000000");

TEST(QuorumCodec, KnownMessagesBothWays) {
  const QuorumMessage ask{51, vrrp::Ask{kA, kW, 150, 7}};
  EXPECT_EQ(encode_quorum(ask), kAsk);
  auto a = decode_quorum(kAsk);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(a->vrid, 51);
  const auto& decoded_ask = std::get<vrrp::Ask>(a->body);
  EXPECT_EQ(decoded_ask.from, kA);
  EXPECT_EQ(decoded_ask.voter, kW);
  EXPECT_EQ(decoded_ask.priority, 150);
  EXPECT_EQ(decoded_ask.seq, 7u);

  const QuorumMessage grant{51, vrrp::Grant{kW, kA, 7, true, 200}};
  EXPECT_EQ(encode_quorum(grant), kGrant);
  auto g = decode_quorum(kGrant);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  const auto& decoded_grant = std::get<vrrp::Grant>(g->body);
  EXPECT_EQ(decoded_grant.voter, kW);
  EXPECT_EQ(decoded_grant.asker, kA);
  EXPECT_TRUE(decoded_grant.granted);
  EXPECT_EQ(decoded_grant.contender_priority, 200);

  const QuorumMessage release{51, vrrp::Release{kA, kW, 8}};
  EXPECT_EQ(encode_quorum(release), kRelease);
  auto r = decode_quorum(kRelease);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(std::get<vrrp::Release>(r->body).seq, 8u);
}

TEST(QuorumCodec, MalformedMessagesNameTheFieldAndByte) {
  auto error_of = [](std::string m) { return decode_quorum(m).status().message(); };
  auto with = [](std::string m, std::size_t at, char value) {
    m[at] = value;
    return m;
  };
  EXPECT_EQ(error_of(kAsk.substr(0, 27)), "quorum message: 27 bytes; every message is 28");
  EXPECT_EQ(error_of(with(kAsk, 0, 'X')), "quorum message: no \"SPFQ\" at byte 0");
  EXPECT_EQ(error_of(with(kAsk, 4, 2)), "quorum message: version 2 at byte 4; only 1 is spoken");
  EXPECT_EQ(error_of(with(kAsk, 5, 4)),
            "quorum message: type 4 at byte 5; 1 (ask), 2 (grant) or 3 (release)");
  EXPECT_EQ(error_of(with(kAsk, 6, 0)),
            "quorum message: virtual router id 0 at byte 6; ids are 1..255");
  EXPECT_EQ(error_of(with(kAsk, 7, 1)),
            "quorum message: flags 0x01 at byte 7; only a grant's bit 0 is defined");
  EXPECT_EQ(error_of(with(kGrant, 7, 3)),
            "quorum message: flags 0x03 at byte 7; only a grant's bit 0 is defined");
  EXPECT_EQ(error_of(with(kAsk, 23, 0)),
            "quorum message: seq 0 at byte 16; asks are numbered from 1");
  EXPECT_EQ(error_of(with(kRelease, 24, 1)), "quorum message: nonzero priority at byte 24 of a release");
  EXPECT_EQ(error_of(with(kAsk, 27, 1)), "quorum message: nonzero padding at byte 25");
}

}  // namespace
}  // namespace spofless::proto
