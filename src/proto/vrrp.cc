#include "proto/vrrp.h"

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::proto {
namespace {

using vrrp::Ipv4;

constexpr std::uint8_t kVersion = 3;
constexpr std::uint8_t kTypeAdvertisement = 1;
constexpr std::size_t kIpv4MinHeaderBytes = 20;

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }
std::uint16_t u16_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint16_t>(byte_at(s, i) << 8 | byte_at(s, i + 1));
}
std::uint32_t u32_at(std::string_view s, std::size_t i) {
  return std::uint32_t{u16_at(s, i)} << 16 | u16_at(s, i + 2);
}
void put_u16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xFF);
}
void put_u32(std::string& out, std::uint32_t v) {
  put_u16(out, static_cast<std::uint16_t>(v >> 16));
  put_u16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}

// The one's-complement sum of the IPv4 pseudo-header (RFC 5798 §5.2.8, as RFC 768 builds it).
std::uint32_t pseudo_header_sum(Ipv4 src, Ipv4 dst, std::size_t length) {
  return (src.value >> 16) + (src.value & 0xFFFF) + (dst.value >> 16) + (dst.value & 0xFFFF) +
         kVrrpProtocol + static_cast<std::uint32_t>(length);
}

}  // namespace

std::uint16_t internet_checksum(std::string_view bytes, std::uint32_t initial) {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += u16_at(bytes, i);
  if (i < bytes.size()) sum += std::uint32_t{byte_at(bytes, i)} << 8;  // odd length: pad 0
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

std::string encode_vrrp(const vrrp::Advert& advert, Ipv4 src, Ipv4 dst) {
  SPOFLESS_CHECK(!advert.addresses.empty() && advert.addresses.size() <= 255,
                 "an advertisement carries 1 to 255 addresses");
  SPOFLESS_CHECK(advert.interval >= vrrp::kMinAdvertInterval &&
                     advert.interval <= vrrp::kMaxAdvertInterval,
                 "the interval fits Max Adver Int's 12 bits and is not zero");
  std::string out;
  out.reserve(kVrrpHeaderBytes + 4 * advert.addresses.size());
  out += static_cast<char>(kVersion << 4 | kTypeAdvertisement);
  out += static_cast<char>(advert.vrid);
  out += static_cast<char>(advert.priority);
  out += static_cast<char>(advert.addresses.size());
  put_u16(out, static_cast<std::uint16_t>(advert.interval.count()));  // rsvd bits are 0
  put_u16(out, 0);                                                    // checksum, below
  for (Ipv4 a : advert.addresses) put_u32(out, a.value);
  const std::uint16_t sum = internet_checksum(out, pseudo_header_sum(src, dst, out.size()));
  out[6] = static_cast<char>(sum >> 8);
  out[7] = static_cast<char>(sum & 0xFF);
  return out;
}

Result<vrrp::Advert> decode_vrrp(std::string_view message, Ipv4 src, Ipv4 dst) {
  auto bad = [&](std::string why) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("VRRP from {}: {}", vrrp::to_string(src), why));
  };
  if (message.size() < kVrrpHeaderBytes) {
    return bad(fmt::format("{} bytes, shorter than the {}-byte header", message.size(),
                           kVrrpHeaderBytes));
  }
  const std::uint8_t version = byte_at(message, 0) >> 4;
  const std::uint8_t type = byte_at(message, 0) & 0x0F;
  if (version != kVersion) {
    return bad(fmt::format("version {} at byte 0; only version 3 is spoken", version));
  }
  if (type != kTypeAdvertisement) {
    return bad(fmt::format("type {} at byte 0; only 1 (advertisement) exists", type));
  }
  vrrp::Advert advert;
  advert.vrid = byte_at(message, 1);
  advert.priority = byte_at(message, 2);
  const std::size_t count = byte_at(message, 3);
  if (advert.vrid == 0) return bad("virtual router id 0 at byte 1; ids are 1..255");
  if (count == 0) return bad("address count 0 at byte 3; at least one address is sent");
  if (message.size() != kVrrpHeaderBytes + 4 * count) {
    return bad(fmt::format("{} bytes, but the address count {} at byte 3 makes {}",
                           message.size(), count, kVrrpHeaderBytes + 4 * count));
  }
  // The 4 reserved bits are ignored on receipt (RFC 5798 §5.2.6).
  advert.interval = vrrp::Centiseconds{u16_at(message, 4) & 0x0FFFu};
  if (advert.interval.count() == 0) {
    return bad("advertisement interval 0 at byte 4; it is 1..4095 centiseconds");
  }
  const std::uint16_t stored = u16_at(message, 6);
  std::string zeroed(message);
  zeroed[6] = zeroed[7] = 0;
  const std::uint16_t computed =
      internet_checksum(zeroed, pseudo_header_sum(src, dst, message.size()));
  if (stored != computed) {
    return bad(fmt::format("checksum {:#06x} at byte 6 does not match the message ({:#06x})",
                           stored, computed));
  }
  advert.addresses.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    advert.addresses.push_back(Ipv4{u32_at(message, kVrrpHeaderBytes + 4 * i)});
  }
  return advert;
}

Result<VrrpPacket> decode_vrrp_ipv4(std::string_view packet) {
  auto bad = [](std::string why) {
    return Status(StatusCode::kInvalidArgument, fmt::format("VRRP packet: {}", why));
  };
  if (packet.size() < kIpv4MinHeaderBytes) {
    return bad(fmt::format("{} bytes, shorter than an IPv4 header", packet.size()));
  }
  if (byte_at(packet, 0) >> 4 != 4) {
    return bad(fmt::format("IP version {} at byte 0; expected 4", byte_at(packet, 0) >> 4));
  }
  const std::size_t header_bytes = std::size_t{byte_at(packet, 0) & 0x0Fu} * 4;
  const std::size_t total = u16_at(packet, 2);
  if (header_bytes < kIpv4MinHeaderBytes || header_bytes > packet.size()) {
    return bad(fmt::format("IPv4 header length {} at byte 0 does not fit the {} bytes received",
                           header_bytes, packet.size()));
  }
  if (total < header_bytes || total > packet.size()) {
    return bad(fmt::format("IPv4 total length {} at byte 2 does not fit the {} bytes received",
                           total, packet.size()));
  }
  VrrpPacket out;
  out.ttl = byte_at(packet, 8);
  out.src = Ipv4{u32_at(packet, 12)};
  out.dst = Ipv4{u32_at(packet, 16)};
  const std::uint8_t protocol = byte_at(packet, 9);
  if (protocol != kVrrpProtocol) {
    return bad(fmt::format("protocol {} at byte 9; VRRP is {}", protocol, kVrrpProtocol));
  }
  if (out.ttl != kVrrpTtl) {
    // RFC 5798 §7.1: a router on another link could have sent it.
    return bad(fmt::format("from {}: TTL {} at byte 8; VRRP is sent with 255 and never routed",
                           vrrp::to_string(out.src), out.ttl));
  }
  Result<vrrp::Advert> advert =
      decode_vrrp(packet.substr(header_bytes, total - header_bytes), out.src, out.dst);
  if (!advert.is_ok()) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{} (IP header {} bytes)", advert.status().message(),
                              header_bytes));
  }
  out.advert = std::move(*advert);
  return out;
}

}  // namespace spofless::proto
