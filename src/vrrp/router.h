#pragma once

// The VRRPv3 state machine of one virtual router (RFC 5798 §6), pure: time comes in as `now`,
// what to do goes out as Actions, in the order to carry them out. The shell (roles/vip) sends
// the advertisements, adds and removes the addresses, and sends the gratuitous ARPs.
//
// Beyond the RFC, from keepalived's experience and this project's tests:
//  - a master that hears a master it beats re-asserts itself (advertisement and gratuitous
//    ARP) at once instead of waiting for its next advertisement; one that hears priority 0
//    does the same, since clients may still hold the releasing router's MAC;
//  - a master that steps down for a better one has the last word: one more advertisement,
//    with priority 1, repeated in answer to the new master's next two, so that the new master
//    hears a worse one and re-announces even when its own advertisement crossed first. So a
//    split brain that heals never leaves clients sending to the node that stepped down
//    (keepalived issues #166, #2066, #2387). A router that starts says the same to the first
//    three advertisements it hears: clients may still hold its MAC from before a crash, or
//    from a shutdown whose priority 0 was lost in a partition. Priority 1 is beaten by every
//    master (ties by address aside, when the last word is not said), so it never makes a
//    master step down, and backups that preempt ignore it;
//  - gratuitous ARP is repeated a while after a takeover and then refreshed periodically;
//  - tracking lowers the priority by a weight while the local service is unhealthy, and a
//    master advertises the change at once, so the address follows a working proxy;
//  - an optional preemption delay: a better backup lets a worse master keep the address for
//    that long after first hearing it (keepalived's preempt_delay).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "vrrp/types.h"

namespace spofless::vrrp {

// Monotonic time on the caller's clock; only differences matter.
using Time = std::chrono::microseconds;

struct RouterConfig {
  std::uint8_t vrid = 1;             // 1..255
  std::uint8_t priority = 100;       // 2..255 (1 is the last word's); 255: owns the addresses
  Centiseconds interval{100};        // Advertisement_Interval, 1..4095 cs
  bool preempt = true;               // Preempt_Mode
  std::chrono::milliseconds preempt_delay{0};
  Ipv4 self;                         // the primary address: advertisements' source
  std::vector<Ipv4> addresses;       // the virtual addresses, 1..255 of them
  // Gratuitous ARP: a burst on becoming master, another `garp_repeat_after` later (0: none),
  // then one every `garp_refresh` (0: none) while master.
  std::chrono::milliseconds garp_repeat_after{5000};
  std::chrono::milliseconds garp_refresh{60000};
};

// Checks a configuration; invalid_argument naming the field.
Status validate(const RouterConfig& config);

// What the shell does, in the order given.
struct Transition {
  State from;
  State to;
  std::string reason;
};
struct SendAdvert {  // an advertisement with this priority and the configured addresses
  std::uint8_t priority;
};
struct AddAddresses {};     // put the virtual addresses on the interface (or bind them)
struct RemoveAddresses {};  // take them off
struct AnnounceAddresses {};  // a burst of gratuitous ARP for every virtual address
using Action = std::variant<Transition, SendAdvert, AddAddresses, RemoveAddresses,
                            AnnounceAddresses>;
using Actions = std::vector<Action>;

// How many last words a router says after stepping down or starting, and with which
// priority (see above).
inline constexpr int kLastWords = 3;
inline constexpr std::uint8_t kLastWordPriority = 1;

class Router {
 public:
  // REQUIRES: validate(config).is_ok().
  explicit Router(RouterConfig config);

  // Startup event (§6.4.1): the owner becomes master at once, any other router backup.
  Actions start(Time now);
  // Shutdown event: a master removes its addresses and advertises priority 0 so that a
  // backup takes over after Skew_Time instead of Master_Down_Interval.
  Actions shutdown(Time now);
  // An advertisement from `src` that passed the codec's checks (version, checksum, TTL).
  // One for another virtual router id is ignored.
  Actions receive(const Advert& advert, Ipv4 src, Time now);
  // Fires every timer due at `now`. Call it at next_deadline() or later.
  Actions tick(Time now);
  // Tracking: lowers the advertised priority by `weight` (0: healthy), to no less than 2
  // (1 is the last word's). The owner keeps 255 only while healthy. A master advertises a
  // change at once.
  Actions set_penalty(std::uint8_t weight, Time now);

  // When tick() next has something to do; nullopt in Initialize.
  std::optional<Time> next_deadline() const;

  State state() const { return state_; }
  std::uint8_t priority() const;  // the effective priority, penalty applied
  // Master_Adver_Interval: the master's advertised interval, as last heard (§6.1).
  Centiseconds master_interval() const { return master_interval_; }
  // Skew_Time and Master_Down_Interval (§6.1), from Master_Adver_Interval and the effective
  // priority, in microseconds: ((256 - Priority) × Master_Adver_Interval) / 256 and
  // 3 × Master_Adver_Interval + Skew_Time.
  Time skew_time() const;
  Time master_down_interval() const;
  // Who is master as far as this router knows: itself while master; as backup, the source of
  // the last advertisement it followed (kept after a priority 0, for the takeover's reason).
  std::optional<Ipv4> master() const { return master_; }
  // Advertisements dropped because their addresses differ from ours (RFC 5798 §7.1).
  std::uint64_t mismatched_adverts() const { return mismatched_; }
  const RouterConfig& config() const { return config_; }

 private:
  Actions become_master(Time now, std::string reason);
  void become_backup(Time now, Actions& out, std::string reason);
  void advertise(Time now, Actions& out);
  void announce(Time now, Actions& out);
  void backup_receive(const Advert& advert, Ipv4 src, Time now, Actions& out);
  void master_receive(const Advert& advert, Ipv4 src, Time now, Actions& out);
  bool same_addresses(std::vector<Ipv4> addresses) const;
  bool beats_last_word(std::uint8_t priority, Ipv4 src) const;

  RouterConfig config_;
  State state_ = State::kInitialize;
  std::uint8_t penalty_ = 0;
  Centiseconds master_interval_;
  std::optional<Ipv4> master_;
  std::optional<Time> master_down_at_;    // Backup: Master_Down_Timer
  std::optional<Time> advert_at_;         // Master: Adver_Timer
  std::optional<Time> garp_repeat_at_;    // Master: the second gratuitous ARP burst
  std::optional<Time> garp_refresh_at_;   // Master: the periodic refresh
  std::optional<Time> lower_master_since_;  // Backup: first heard a worse master (preempt delay)
  int last_words_left_ = 0;
  std::uint64_t mismatched_ = 0;
  std::string down_reason_;  // Backup: why Master_Down_Timer is set as it is  // Backup: last words still to say (stepped down or started)
};

}  // namespace spofless::vrrp
