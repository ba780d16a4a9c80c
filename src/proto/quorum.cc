#include "proto/quorum.h"

#include <type_traits>

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::proto {
namespace {

constexpr std::string_view kMagic = "SPFQ";
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kTypeAsk = 1;
constexpr std::uint8_t kTypeGrant = 2;
constexpr std::uint8_t kTypeRelease = 3;
constexpr std::uint8_t kGranted = 0x01;

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }
std::uint64_t be_at(std::string_view s, std::size_t i, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) v = v << 8 | byte_at(s, i + k);
  return v;
}
void put_be(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t k = n; k-- > 0;) out += static_cast<char>((v >> (8 * k)) & 0xFF);
}

}  // namespace

std::string encode_quorum(const QuorumMessage& m) {
  SPOFLESS_CHECK(m.vrid != 0, "a quorum message names its virtual router");
  struct Fields {
    std::uint8_t type, flags;
    vrrp::Ipv4 from, to;
    std::uint64_t seq;
    std::uint8_t priority;
  };
  const Fields f = std::visit(
      [](const auto& b) -> Fields {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, vrrp::Ask>) {
          return {kTypeAsk, 0, b.from, b.voter, b.seq, b.priority};
        } else if constexpr (std::is_same_v<T, vrrp::Grant>) {
          return {kTypeGrant, b.granted ? kGranted : std::uint8_t{0}, b.voter, b.asker, b.seq,
                  b.contender_priority};
        } else {
          return {kTypeRelease, 0, b.from, b.voter, b.seq, 0};
        }
      },
      m.body);
  SPOFLESS_CHECK(f.seq != 0, "asks are numbered from 1");
  std::string out(kMagic);
  out.reserve(kQuorumMessageBytes);
  out += static_cast<char>(kVersion);
  out += static_cast<char>(f.type);
  out += static_cast<char>(m.vrid);
  out += static_cast<char>(f.flags);
  put_be(out, f.from.value, 4);
  put_be(out, f.to.value, 4);
  put_be(out, f.seq, 8);
  out += static_cast<char>(f.priority);
  out.append(3, '\0');
  return out;
}

Result<QuorumMessage> decode_quorum(std::string_view b) {
  auto bad = [](std::string why) {
    return Status(StatusCode::kInvalidArgument, "quorum message: " + std::move(why));
  };
  if (b.size() != kQuorumMessageBytes) {
    return bad(fmt::format("{} bytes; every message is {}", b.size(), kQuorumMessageBytes));
  }
  if (b.substr(0, 4) != kMagic) return bad("no \"SPFQ\" at byte 0");
  if (byte_at(b, 4) != kVersion) {
    return bad(fmt::format("version {} at byte 4; only 1 is spoken", byte_at(b, 4)));
  }
  const std::uint8_t type = byte_at(b, 5);
  if (type != kTypeAsk && type != kTypeGrant && type != kTypeRelease) {
    return bad(fmt::format("type {} at byte 5; 1 (ask), 2 (grant) or 3 (release)", type));
  }
  QuorumMessage m;
  m.vrid = byte_at(b, 6);
  if (m.vrid == 0) return bad("virtual router id 0 at byte 6; ids are 1..255");
  const std::uint8_t flags = byte_at(b, 7);
  if ((flags & ~(type == kTypeGrant ? kGranted : 0)) != 0) {
    return bad(fmt::format("flags {:#04x} at byte 7; only a grant's bit 0 is defined", flags));
  }
  const vrrp::Ipv4 from{static_cast<std::uint32_t>(be_at(b, 8, 4))};
  const vrrp::Ipv4 to{static_cast<std::uint32_t>(be_at(b, 12, 4))};
  const std::uint64_t seq = be_at(b, 16, 8);
  if (seq == 0) return bad("seq 0 at byte 16; asks are numbered from 1");
  const std::uint8_t priority = byte_at(b, 24);
  if (type == kTypeRelease && priority != 0) return bad("nonzero priority at byte 24 of a release");
  if (be_at(b, 25, 3) != 0) return bad("nonzero padding at byte 25");
  if (type == kTypeAsk) {
    m.body = vrrp::Ask{from, to, priority, seq};
  } else if (type == kTypeGrant) {
    m.body = vrrp::Grant{from, to, seq, (flags & kGranted) != 0, priority};
  } else {
    m.body = vrrp::Release{from, to, seq};
  }
  return m;
}

}  // namespace spofless::proto
