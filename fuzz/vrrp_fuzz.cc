// Fuzzes what a VRRP socket reads (proto/vrrp.h) and what the state machine makes of it
// (vrrp/router.h). Checked, for any input:
// - malformed input is invalid_argument, never a crash;
// - a decoded advertisement re-encodes to the same bytes (reserved bits aside) and decodes
//   back to itself;
// - fed to a backup and to a master, it leaves each in a state the RFC allows, holding the
//   addresses exactly while master.
// - a split-brain guard message (proto/quorum.h) that decodes re-encodes to the same bytes.
// The input is tried as an IPv4 packet, as a bare VRRP message, as a guard message and as an
// address in text.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "proto/quorum.h"
#include "proto/vrrp.h"
#include "vrrp/router.h"

namespace {

namespace vrrp = spofless::vrrp;
using spofless::StatusCode;

constexpr vrrp::Ipv4 kSelf{0xC6336401};  // 198.51.100.1: the routers fed
constexpr vrrp::Ipv4 kPeer{0xC6336402};  // 198.51.100.2: the sender of a bare message

// Tracks AddAddresses / RemoveAddresses to check that the addresses are held exactly while
// master.
struct Holder {
  vrrp::Router router;
  bool holding = false;

  void run(const vrrp::Actions& actions) {
    for (const vrrp::Action& a : actions) {
      if (std::holds_alternative<vrrp::AddAddresses>(a)) {
        SPOFLESS_CHECK(!holding, "addresses are added once");
        holding = true;
      } else if (std::holds_alternative<vrrp::RemoveAddresses>(a)) {
        SPOFLESS_CHECK(holding, "only held addresses are removed");
        holding = false;
      }
    }
    SPOFLESS_CHECK(holding == (router.state() == vrrp::State::kMaster),
                   "the addresses are held exactly while master");
  }
};

void feed_routers(const vrrp::Advert& advert, vrrp::Ipv4 src) {
  vrrp::RouterConfig c;
  c.vrid = advert.vrid;
  c.self = kSelf;
  // The advertised addresses, so that the routers do not drop it as misconfigured (§7.1);
  // one listing an address twice is dropped, which is fine too.
  c.addresses = advert.addresses;
  std::sort(c.addresses.begin(), c.addresses.end());
  c.addresses.erase(std::unique(c.addresses.begin(), c.addresses.end()), c.addresses.end());
  Holder backup{vrrp::Router(c)};
  backup.run(backup.router.start(vrrp::Time{0}));
  backup.run(backup.router.receive(advert, src, vrrp::Time{1000}));
  backup.run(backup.router.tick(*backup.router.next_deadline()));

  c.priority = vrrp::kOwnerPriority;
  Holder master{vrrp::Router(c)};
  master.run(master.router.start(vrrp::Time{0}));
  master.run(master.router.receive(advert, src, vrrp::Time{1000}));
  master.run(master.router.tick(*master.router.next_deadline()));
  master.run(master.router.shutdown(vrrp::Time{2000}));
}

void check_message(std::string_view message, vrrp::Ipv4 src, vrrp::Ipv4 dst) {
  auto advert = spofless::proto::decode_vrrp(message, src, dst);
  if (!advert) {
    SPOFLESS_CHECK(advert.status().code() == StatusCode::kInvalidArgument,
                   "malformed input is invalid_argument");
    return;
  }
  const std::string encoded = spofless::proto::encode_vrrp(*advert, src, dst);
  std::string without_reserved(message);
  without_reserved[4] = static_cast<char>(without_reserved[4] & 0x0F);
  if (without_reserved == message) {
    SPOFLESS_CHECK(encoded == message, "a decoded advertisement re-encodes to its bytes");
  }
  auto again = spofless::proto::decode_vrrp(encoded, src, dst);
  SPOFLESS_CHECK(again.is_ok() && *again == *advert, "an advertisement round-trips");
  feed_routers(*advert, src);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto packet = spofless::proto::decode_vrrp_ipv4(input);
  if (packet) {
    SPOFLESS_CHECK(packet->ttl == spofless::proto::kVrrpTtl, "only TTL 255 is accepted");
    feed_routers(packet->advert, packet->src);
  } else {
    SPOFLESS_CHECK(packet.status().code() == StatusCode::kInvalidArgument,
                   "malformed input is invalid_argument");
  }
  check_message(input, kPeer, vrrp::kVrrpGroup);
  auto quorum = spofless::proto::decode_quorum(input);
  if (quorum) {
    SPOFLESS_CHECK(spofless::proto::encode_quorum(*quorum) == input,
                   "a guard message re-encodes to its bytes");
  } else {
    SPOFLESS_CHECK(quorum.status().code() == StatusCode::kInvalidArgument,
                   "malformed input is invalid_argument");
  }
  (void)vrrp::parse_ipv4(input);
  return 0;
}
