#pragma once

// The vocabulary of VRRPv3 (RFC 5798) for IPv4: addresses, the advertisement, router states.
// Pure values; the codec is proto/vrrp.h, the state machine vrrp/router.h.

#include <chrono>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace spofless::vrrp {

// An IPv4 address in host byte order, so that comparing two compares them as RFC 5798 §6.4.3
// does ("the primary IPv4 address of the sender is larger").
struct Ipv4 {
  std::uint32_t value = 0;
  auto operator<=>(const Ipv4&) const = default;
};

// "a.b.c.d" in decimal, each part 0..255 without leading zeros (which some parsers read as
// octal). Errors are invalid_argument naming `what` and the text.
Result<Ipv4> parse_ipv4(std::string_view text, std::string_view what = "IPv4 address");
std::string to_string(Ipv4 address);

// 224.0.0.18, the group VRRP advertisements go to unless peers are listed (RFC 5798 §5.1.1.2).
inline constexpr Ipv4 kVrrpGroup{0xE0000012};

// RFC 5798 counts time in centiseconds: the advertisement interval is a 12-bit count of them.
using Centiseconds = std::chrono::duration<std::uint32_t, std::centi>;
inline constexpr Centiseconds kMinAdvertInterval{1};
inline constexpr Centiseconds kMaxAdvertInterval{4095};

// Priority 255 belongs to the router that owns the virtual addresses; 0 in an advertisement
// says its sender stopped being master (RFC 5798 §5.2.4). Configured priorities are 1..255.
inline constexpr std::uint8_t kOwnerPriority = 255;
inline constexpr std::uint8_t kReleasePriority = 0;

// One VRRPv3 advertisement (RFC 5798 §5.2), as decoded or to be encoded.
struct Advert {
  std::uint8_t vrid = 0;       // virtual router id, 1..255
  std::uint8_t priority = 0;   // 0..255
  Centiseconds interval{100};  // Max Adver Int, 1..4095 cs
  std::vector<Ipv4> addresses;  // the virtual addresses, at least one
  bool operator==(const Advert&) const = default;
};

enum class State { kInitialize, kBackup, kMaster };
std::string_view to_string(State state);

}  // namespace spofless::vrrp
