// The VRRPv3 codec against packets built by an independent implementation, and against every
// way a packet can be malformed. The known packets came from these lines of Python:
//   def csum(b):
//       s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
//       while s >> 16: s = (s & 0xffff) + (s >> 16)
//       return ~s & 0xffff
//   def msg(vrid, prio, cs, addrs, src, dst):  # addresses and src, dst as 4-byte strings
//       body = bytes([0x31, vrid, prio, len(addrs)]) + struct.pack('!HH', cs, 0) + b''.join(addrs)
//       c = csum(src + dst + bytes([0, 112]) + struct.pack('!H', len(body)) + body)
//       return body[:6] + struct.pack('!H', c) + body[8:]

#include "proto/vrrp.h"

#include <string>

#include <gtest/gtest.h>

namespace spofless::proto {
namespace {

using vrrp::Advert;
using vrrp::Centiseconds;
using vrrp::Ipv4;

Ipv4 ip(std::string_view text) { return *vrrp::parse_ipv4(text); }

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// VRID 51, priority 150, 100 cs, 198.51.100.100; from 198.51.100.1 to 224.0.0.18.
const std::string kMulticastAdvert = from_hex("313396010064030bc6336464");
// VRID 7, priority 255, 10 cs, two addresses; unicast from 198.51.100.2 to 198.51.100.3.
const std::string kUnicastAdvert = from_hex("3107ff02000a25cdc6336464c6336465");

TEST(Vrrp, EncodesKnownPackets) {
  Advert a{51, 150, Centiseconds{100}, {ip("198.51.100.100")}};
  EXPECT_EQ(encode_vrrp(a, ip("198.51.100.1"), vrrp::kVrrpGroup), kMulticastAdvert);
  Advert b{7, 255, Centiseconds{10}, {ip("198.51.100.100"), ip("198.51.100.101")}};
  EXPECT_EQ(encode_vrrp(b, ip("198.51.100.2"), ip("198.51.100.3")), kUnicastAdvert);
}

TEST(Vrrp, DecodesKnownPackets) {
  auto a = decode_vrrp(kMulticastAdvert, ip("198.51.100.1"), vrrp::kVrrpGroup);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(*a, (Advert{51, 150, Centiseconds{100}, {ip("198.51.100.100")}}));
  auto b = decode_vrrp(kUnicastAdvert, ip("198.51.100.2"), ip("198.51.100.3"));
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_EQ(b->addresses.size(), 2u);
  EXPECT_EQ(b->interval, Centiseconds{10});
}

// The pseudo-header is part of the checksum: the same bytes from another source fail.
TEST(Vrrp, TheChecksumCoversThePseudoHeader) {
  auto r = decode_vrrp(kMulticastAdvert, ip("198.51.100.9"), vrrp::kVrrpGroup);
  EXPECT_EQ(r.status().message(),
            "VRRP from 198.51.100.9: checksum 0x030b at byte 6 does not match the message "
            "(0x0303)");
}

TEST(Vrrp, TheReservedBitsAreIgnored) {
  std::string m = kMulticastAdvert;
  m[4] = static_cast<char>(m[4] | 0xF0);
  // Fix the checksum for the changed word: one's-complement arithmetic, by hand.
  std::string z = m;
  z[6] = z[7] = 0;
  const std::uint32_t pseudo = 0xC633 + 0x6401 + 0xE000 + 0x0012 + 112 + 12;
  const std::uint16_t sum = internet_checksum(z, pseudo);
  m[6] = static_cast<char>(sum >> 8);
  m[7] = static_cast<char>(sum & 0xFF);
  auto r = decode_vrrp(m, ip("198.51.100.1"), vrrp::kVrrpGroup);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->interval, Centiseconds{100});
}

std::string error_of(std::string m) {
  return decode_vrrp(m, ip("198.51.100.1"), vrrp::kVrrpGroup).status().message();
}

// kMulticastAdvert with byte `at` set to `value`.
std::string with_byte(std::size_t at, char value) {
  std::string m = kMulticastAdvert;
  m[at] = value;
  return m;
}

TEST(Vrrp, MalformedMessagesNameTheFieldAndByte) {
  EXPECT_EQ(error_of(kMulticastAdvert.substr(0, 7)),
            "VRRP from 198.51.100.1: 7 bytes, shorter than the 8-byte header");
  const struct {
    std::size_t at;
    char value;
    std::string error;
  } cases[] = {
      {0, 0x21, "version 2 at byte 0; only version 3 is spoken"},
      {0, 0x32, "type 2 at byte 0; only 1 (advertisement) exists"},
      {1, 0, "virtual router id 0 at byte 1; ids are 1..255"},
      {3, 0, "address count 0 at byte 3; at least one address is sent"},
      {3, 2, "12 bytes, but the address count 2 at byte 3 makes 16"},
      {11, 0x65, "checksum 0x030b at byte 6 does not match the message (0x030a)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of(with_byte(c.at, c.value)), "VRRP from 198.51.100.1: " + c.error)
        << "byte " << c.at;
  }
  EXPECT_EQ(error_of(with_byte(5, 0)),
            "VRRP from 198.51.100.1: advertisement interval 0 at byte 4; it is 1..4095 "
            "centiseconds");
}

// An IPv4 header as a raw socket delivers it: 20 bytes, TTL 255, protocol 112.
std::string ipv4_header(std::size_t payload, std::uint8_t ttl = 255, std::uint8_t proto = 112) {
  std::string h(20, '\0');
  h[0] = 0x45;  // version 4, 5 words
  const std::size_t total = 20 + payload;
  h[2] = static_cast<char>(total >> 8);
  h[3] = static_cast<char>(total & 0xFF);
  h[8] = static_cast<char>(ttl);
  h[9] = static_cast<char>(proto);
  const std::string src = from_hex("c6336401"), dst = from_hex("e0000012");
  h.replace(12, 4, src);
  h.replace(16, 4, dst);
  return h;
}

TEST(Vrrp, DecodesAnIpv4PacketAndChecksTtlAndProtocol) {
  auto p = decode_vrrp_ipv4(ipv4_header(12) + kMulticastAdvert);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->src, ip("198.51.100.1"));
  EXPECT_EQ(p->dst, vrrp::kVrrpGroup);
  EXPECT_EQ(p->advert.vrid, 51);

  EXPECT_EQ(decode_vrrp_ipv4(ipv4_header(12, 64) + kMulticastAdvert).status().message(),
            "VRRP packet: from 198.51.100.1: TTL 64 at byte 8; VRRP is sent with 255 and never "
            "routed");
  EXPECT_EQ(decode_vrrp_ipv4(ipv4_header(12, 255, 17) + kMulticastAdvert).status().message(),
            "VRRP packet: protocol 17 at byte 9; VRRP is 112");
  EXPECT_EQ(decode_vrrp_ipv4(ipv4_header(13) + kMulticastAdvert).status().message(),
            "VRRP packet: IPv4 total length 33 at byte 2 does not fit the 32 bytes received");
  EXPECT_EQ(decode_vrrp_ipv4(kMulticastAdvert).status().message(),
            "VRRP packet: 12 bytes, shorter than an IPv4 header");
  std::string bad_vrrp = ipv4_header(12) + kMulticastAdvert;
  bad_vrrp[20] = 0x21;
  EXPECT_EQ(decode_vrrp_ipv4(bad_vrrp).status().message(),
            "VRRP from 198.51.100.1: version 2 at byte 0; only version 3 is spoken (IP header "
            "20 bytes)");
}

TEST(Vrrp, RoundTripsTheLargestAdvertisement) {
  Advert a{255, 1, Centiseconds{4095}, {}};
  for (std::uint32_t i = 0; i < 255; ++i) a.addresses.push_back(Ipv4{0xC6336400 + i});
  const std::string m = encode_vrrp(a, ip("198.51.100.1"), vrrp::kVrrpGroup);
  EXPECT_EQ(m.size(), kVrrpMaxMessageBytes);
  auto back = decode_vrrp(m, ip("198.51.100.1"), vrrp::kVrrpGroup);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, a);
}

}  // namespace
}  // namespace spofless::proto
