#pragma once

// The split-brain guard's messages (vrrp/quorum.h) on the wire: one UDP datagram each, 28
// bytes, big-endian. Separate from VRRP's packets, so that keepalived peers never see them.
//
//   bytes 0-3   "SPFQ"
//   byte  4     version, 1
//   byte  5     type: 1 ask, 2 grant, 3 release
//   byte  6     virtual router id, 1..255
//   byte  7     flags: bit 0 = granted (grants only); the other bits are 0
//   bytes 8-11  the sender, IPv4: the asker (ask, release) or the voter (grant)
//   bytes 12-15 the addressee, IPv4: the voter (ask, release) or the asker (grant)
//   bytes 16-23 seq, the asker's, nonzero
//   byte  24    the asker's priority (ask), the contender priority (grant), 0 (release)
//   bytes 25-27 0

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"
#include "vrrp/quorum.h"

namespace spofless::proto {

inline constexpr std::size_t kQuorumMessageBytes = 28;

struct QuorumMessage {
  std::uint8_t vrid = 0;
  std::variant<vrrp::Ask, vrrp::Grant, vrrp::Release> body;
};

// REQUIRES: vrid != 0 and a nonzero seq.
std::string encode_quorum(const QuorumMessage& message);

// Errors are invalid_argument naming the field and byte, e.g.
//   "quorum message: type 4 at byte 5; 1 (ask), 2 (grant) or 3 (release)"
Result<QuorumMessage> decode_quorum(std::string_view bytes);

}  // namespace spofless::proto
