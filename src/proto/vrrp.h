#pragma once

// The VRRPv3 wire format for IPv4 (RFC 5798 §5), as keepalived sends it: IP protocol 112,
// TTL 255, to 224.0.0.18 or unicast to each peer. Pure code: bytes in, values out.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//   |(rsvd) |     Max Adver Int     |          Checksum             |
//   |                       IPv4 Address(es)                        |
//
// The checksum covers the VRRP message and the IPv4 pseudo-header (source, destination, a
// zero byte, protocol 112, the message length), RFC 5798 §5.2.8.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "vrrp/types.h"

namespace spofless::proto {

inline constexpr std::uint8_t kVrrpProtocol = 112;
inline constexpr std::uint8_t kVrrpTtl = 255;
inline constexpr std::size_t kVrrpHeaderBytes = 8;
// Count IPvX Addr is one byte; with 4 bytes an address, 8 + 255 × 4 bytes at most.
inline constexpr std::size_t kVrrpMaxMessageBytes = kVrrpHeaderBytes + 255 * 4;

// The VRRP message (no IP header) for `advert` sent from `src` to `dst`, checksum filled in.
// REQUIRES: 1 <= advert.addresses.size() <= 255 and the interval in 1..4095 cs.
std::string encode_vrrp(const vrrp::Advert& advert, vrrp::Ipv4 src, vrrp::Ipv4 dst);

// Decodes a VRRP message received from `src` for `dst` (the pseudo-header's addresses).
// Errors are invalid_argument naming the field and its byte offset, e.g.
//   "VRRP from 198.51.100.2: version 2 at byte 0; only version 3 is spoken"
//   "VRRP from 198.51.100.2: checksum 0x1234 at byte 6 does not match the message (0xabcd)"
Result<vrrp::Advert> decode_vrrp(std::string_view message, vrrp::Ipv4 src, vrrp::Ipv4 dst);

// What a raw IPPROTO_VRRP socket hands over: the IPv4 header, then the VRRP message.
struct VrrpPacket {
  vrrp::Ipv4 src;
  vrrp::Ipv4 dst;
  std::uint8_t ttl = 0;
  vrrp::Advert advert;
};

// Decodes an IPv4 packet carrying VRRP. Besides decode_vrrp's checks it refuses what RFC 5798
// §7.1 says to discard: a TTL other than 255 (the sender is not on this link) and a protocol
// other than 112; and a malformed IPv4 header. Same error form, offsets from the IP header.
Result<VrrpPacket> decode_vrrp_ipv4(std::string_view packet);

// The Internet checksum (RFC 1071) of `bytes` after `initial` (a partial one's-complement sum).
std::uint16_t internet_checksum(std::string_view bytes, std::uint32_t initial = 0);

}  // namespace spofless::proto
