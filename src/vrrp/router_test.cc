// The VRRPv3 state machine against RFC 5798's timer formulas and §6.4's event table, and two
// routers wired together, including a split brain that heals in either order.

#include "vrrp/router.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace spofless::vrrp {
namespace {

using std::chrono::milliseconds;

constexpr Ipv4 kA{0xC6336401};  // 198.51.100.1
constexpr Ipv4 kB{0xC6336402};  // 198.51.100.2
constexpr Ipv4 kVip{0xC6336464};

Time ms(std::int64_t n) { return milliseconds{n}; }

RouterConfig config(Ipv4 self, std::uint8_t priority, Centiseconds interval = Centiseconds{100}) {
  RouterConfig c;
  c.vrid = 51;
  c.priority = priority;
  c.interval = interval;
  c.self = self;
  c.addresses = {kVip};
  return c;
}

Advert advert(std::uint8_t priority, Centiseconds interval = Centiseconds{100}) {
  return Advert{51, priority, interval, {kVip}};
}

// "master(reason) add advert:100 announce", one word an action.
std::string show(const Actions& actions) {
  std::string out;
  for (const Action& a : actions) {
    if (!out.empty()) out += ' ';
    if (const auto* t = std::get_if<Transition>(&a)) {
      out += fmt::format("{}({})", to_string(t->to), t->reason);
    } else if (const auto* s = std::get_if<SendAdvert>(&a)) {
      out += fmt::format("advert:{}", s->priority);
    } else if (std::holds_alternative<AddAddresses>(a)) {
      out += "add";
    } else if (std::holds_alternative<RemoveAddresses>(a)) {
      out += "remove";
    } else {
      out += "announce";
    }
  }
  return out;
}

TEST(RouterTimers, FollowRfc5798) {
  // Priority 100 at 1 s: Skew_Time = (256 - 100) × 100 cs / 256 = 60.9375 cs.
  Router r(config(kA, 100));
  EXPECT_EQ(r.skew_time(), Time{609375});
  EXPECT_EQ(r.master_down_interval(), Time{3'609'375});
  // Priority 254 at 100 ms: Skew_Time = 2 × 10 cs / 256 = 0.078125 cs.
  Router fast(config(kA, 254, Centiseconds{10}));
  EXPECT_EQ(fast.skew_time(), Time{781});
  EXPECT_EQ(fast.master_down_interval(), Time{300'781});
}

TEST(RouterStartup, TheOwnerBecomesMasterAtOnceAndOthersBackup) {
  Router owner(config(kA, 255));
  EXPECT_EQ(show(owner.start(ms(0))),
            "master(owner of the addresses (priority 255)) add advert:255 announce");
  EXPECT_EQ(owner.next_deadline(), ms(1000));  // the next advertisement

  Router backup(config(kB, 100));
  EXPECT_EQ(show(backup.start(ms(0))), "backup(started)");
  EXPECT_EQ(backup.next_deadline(), Time{3'609'375});
}

TEST(RouterBackup, TakesOverAfterMasterDownIntervalOfSilence) {
  Router r(config(kB, 100));
  (void)r.start(ms(0));
  EXPECT_EQ(show(r.tick(Time{3'609'374})), "");
  EXPECT_EQ(show(r.tick(Time{3'609'375})), "master(no master heard in 3609 ms) add advert:100 announce");
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST(RouterBackup, FollowsAMastersAdvertisementsAndAdoptsItsInterval) {
  Router r(config(kB, 100));
  (void)r.start(ms(0));
  // A starting router's last word (below): the master may re-announce.
  EXPECT_EQ(show(r.receive(advert(200, Centiseconds{10}), kA, ms(3000))), "advert:1");
  EXPECT_EQ(r.master(), kA);
  EXPECT_EQ(r.master_interval(), Centiseconds{10});
  // Master_Down_Interval now comes from the master's 100 ms: 300 ms + 60.9375 ms.
  EXPECT_EQ(r.next_deadline(), ms(3000) + Time{360'937});
  EXPECT_EQ(show(r.tick(ms(3300))), "");
  EXPECT_EQ(show(r.tick(ms(3361))), "master(master 198.51.100.1 silent for 360 ms) add advert:100 announce");
}

TEST(RouterBackup, APriorityZeroAdvertisementCutsTheWaitToSkewTime) {
  Router r(config(kB, 100));
  (void)r.start(ms(0));
  (void)r.receive(advert(200), kA, ms(1000));
  (void)r.receive(advert(kReleasePriority), kA, ms(1500));
  EXPECT_EQ(r.next_deadline(), ms(1500) + Time{609375});
  EXPECT_EQ(r.tick(ms(2110)).size(), 4u);
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST(RouterBackup, PreemptsAWorseMasterOnlyWhenPreemptIsOn) {
  Router preempting(config(kB, 200));
  (void)preempting.start(ms(0));
  (void)preempting.receive(advert(100), kA, ms(1000));  // ignored: Master_Down_Timer runs on
  EXPECT_EQ(preempting.next_deadline(), Time{3'218'750});  // from start: 3 s + 21.875 cs
  EXPECT_EQ(preempting.master(), std::nullopt);

  RouterConfig c = config(kB, 200);
  c.preempt = false;
  Router patient(c);
  (void)patient.start(ms(0));
  for (int t = 1000; t <= 20000; t += 1000) {
    // The three last words of a starting router have priority 1: never a reason to step down.
    EXPECT_EQ(show(patient.receive(advert(100), kA, ms(t))), t <= 3000 ? "advert:1" : "");
    EXPECT_EQ(show(patient.tick(ms(t))), "");
  }
  EXPECT_EQ(patient.state(), State::kBackup);
  EXPECT_EQ(patient.master(), kA);
}

TEST(RouterBackup, APreemptDelayLetsAWorseMasterKeepTheAddressThatLong) {
  RouterConfig c = config(kB, 200);
  c.preempt_delay = milliseconds{5000};
  Router r(c);
  (void)r.start(ms(0));
  for (int t = 1000; t <= 5000; t += 1000) {
    (void)r.receive(advert(100), kA, ms(t));
    EXPECT_EQ(show(r.tick(ms(t))), "") << t;
  }
  // Heard first at 1 s: followed until 6 s; the advertisement at 6 s is ignored.
  (void)r.receive(advert(100), kA, ms(6000));
  EXPECT_EQ(r.next_deadline(), ms(5000) + Time{3'218'750});
  EXPECT_EQ(r.tick(ms(8219)).size(), 4u);
  EXPECT_EQ(r.state(), State::kMaster);
}

Router started_master(RouterConfig c) {
  Router r(std::move(c));
  (void)r.start(ms(0));
  (void)r.tick(*r.next_deadline());
  EXPECT_EQ(r.state(), State::kMaster);
  return r;
}

TEST(RouterMaster, AdvertisesEveryIntervalAndRefreshesArp) {
  RouterConfig c = config(kA, 100);
  c.garp_repeat_after = milliseconds{5000};
  c.garp_refresh = milliseconds{60000};
  Router r(c);
  (void)r.start(ms(0));
  const Time took = *r.next_deadline();
  (void)r.tick(took);
  EXPECT_EQ(show(r.tick(took + ms(999))), "");
  EXPECT_EQ(show(r.tick(took + ms(1000))), "advert:100");
  EXPECT_EQ(show(r.tick(took + ms(5000))), "advert:100 announce");  // the repeated burst
  int announces = 0;
  for (int s = 6; s <= 66; ++s) {
    for (const Action& a : r.tick(took + ms(1000 * s))) {
      announces += std::holds_alternative<AnnounceAddresses>(a);
    }
  }
  EXPECT_EQ(announces, 1);  // the refresh, 60 s after the last burst
}

TEST(RouterMaster, StepsDownForABetterMasterAndHasTheLastWord) {
  Router r = started_master(config(kA, 100));
  EXPECT_EQ(show(r.receive(advert(150), kB, ms(5000))),
            "backup(heard master 198.51.100.2 with priority 150 (ours 100)) remove advert:1");
  EXPECT_EQ(r.master(), kB);
  // Said again in answer to the new master's next two advertisements, then never.
  EXPECT_EQ(show(r.receive(advert(150), kB, ms(6000))), "advert:1");
  EXPECT_EQ(show(r.receive(advert(150), kB, ms(7000))), "advert:1");
  EXPECT_EQ(show(r.receive(advert(150), kB, ms(8000))), "");
}

TEST(RouterMaster, EqualPrioritiesAreBrokenByTheHigherAddress) {
  Router low = started_master(config(kA, 100));
  EXPECT_EQ(low.receive(advert(100), kB, ms(5000)).size(), 3u);
  EXPECT_EQ(low.state(), State::kBackup);

  Router high = started_master(config(kB, 100));
  EXPECT_EQ(show(high.receive(advert(100), kA, ms(5000))), "advert:100 announce");
  EXPECT_EQ(high.state(), State::kMaster);
}

TEST(RouterMaster, ReassertsAtOnceOnHearingAWorseMasterOrARelease) {
  Router r = started_master(config(kB, 200));
  EXPECT_EQ(show(r.receive(advert(100), kA, ms(5000))), "advert:200 announce");
  EXPECT_EQ(r.next_deadline(), ms(6000));
  EXPECT_EQ(show(r.receive(advert(kReleasePriority), kA, ms(5500))), "advert:200 announce");
}

TEST(RouterMaster, ShutdownReleasesWithPriorityZero) {
  Router r = started_master(config(kA, 100));
  EXPECT_EQ(show(r.shutdown(ms(5000))), "initialize(shut down) remove advert:0");
  EXPECT_EQ(r.next_deadline(), std::nullopt);
  EXPECT_EQ(show(r.receive(advert(200), kB, ms(5001))), "");
  EXPECT_EQ(show(r.start(ms(6000))), "backup(started)");
}

TEST(RouterTracking, APenaltyLowersThePriorityAndAMasterSaysSoAtOnce) {
  Router r = started_master(config(kA, 150));
  EXPECT_EQ(show(r.set_penalty(60, ms(5000))), "advert:90");
  EXPECT_EQ(r.priority(), 90);
  EXPECT_EQ(show(r.set_penalty(60, ms(5001))), "");
  EXPECT_EQ(show(r.set_penalty(0, ms(5002))), "advert:150");

  Router owner(config(kB, 255));
  (void)owner.set_penalty(10, ms(0));
  EXPECT_EQ(owner.priority(), 244);  // no longer the owner
  EXPECT_EQ(show(owner.start(ms(0))), "backup(started)");
  (void)owner.set_penalty(255, ms(0));
  EXPECT_EQ(owner.priority(), 2);  // above the last word's priority, and never 0 (releasing)
}

TEST(Router, IgnoresOtherVirtualRoutersAndItsOwnEcho) {
  Router r = started_master(config(kA, 100));
  Advert other = advert(200);
  other.vrid = 52;
  EXPECT_EQ(show(r.receive(other, kB, ms(5000))), "");
  EXPECT_EQ(show(r.receive(advert(200), kA, ms(5000))), "");
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST(Router, DropsAdvertisementsForOtherAddressesUnlessFromTheOwner) {
  Router r(config(kB, 100));
  (void)r.start(ms(0));
  Advert other = advert(200);
  other.addresses = {Ipv4{0xC6336465}};
  EXPECT_EQ(show(r.receive(other, kA, ms(1000))), "");
  EXPECT_EQ(r.master(), std::nullopt);  // not followed
  EXPECT_EQ(r.mismatched_adverts(), 1u);
  other.priority = kOwnerPriority;  // the owner's word is taken as it is
  EXPECT_EQ(show(r.receive(other, kA, ms(1000))), "advert:1");
  EXPECT_EQ(r.master(), kA);
  // Listed in another order: the same set.
  RouterConfig c = config(kB, 100);
  c.addresses = {kVip, Ipv4{0xC6336465}};
  Router listed(c);
  (void)listed.start(ms(0));
  Advert reordered = advert(200);
  reordered.addresses = {Ipv4{0xC6336465}, kVip};
  (void)listed.receive(reordered, kA, ms(1000));
  EXPECT_EQ(listed.master(), kA);
}

TEST(Router, AFollowerIgnoresAnotherBackupsLastWord) {
  RouterConfig c = config(kB, 100);
  c.preempt = false;
  Router r(c);
  (void)r.start(ms(0));
  (void)r.receive(advert(200, Centiseconds{10}), kA, ms(1000));
  ASSERT_EQ(r.master(), kA);
  const Time deadline = *r.next_deadline();
  (void)r.receive(advert(kLastWordPriority), Ipv4{0xC6336403}, ms(1050));
  EXPECT_EQ(r.master(), kA);
  EXPECT_EQ(r.master_interval(), Centiseconds{10});
  EXPECT_EQ(r.next_deadline(), deadline);
}

TEST(Router, SaysWhyItTookOver) {
  Router released(config(kB, 100));
  (void)released.start(ms(0));
  (void)released.receive(advert(200), kA, ms(1000));
  (void)released.receive(advert(kReleasePriority), kA, ms(2000));
  EXPECT_EQ(show(released.tick(ms(3000))),
            "master(master 198.51.100.1 released (priority 0); waited Skew_Time 609 ms) add "
            "advert:100 announce");

  Router preempting(config(kB, 200));
  (void)preempting.start(ms(0));
  (void)preempting.receive(advert(100), kA, ms(1000));
  EXPECT_EQ(show(preempting.tick(ms(4000))),
            "master(preempting master 198.51.100.1 (priority 100, ours 200)) add advert:200 "
            "announce");
}

TEST(RouterConfigCheck, NamesWhatIsWrong) {
  RouterConfig c = config(kA, 100);
  c.vrid = 0;
  EXPECT_EQ(validate(c).message(), "virtual router id 0: ids are 1..255");
  c = config(kA, 100, Centiseconds{4096});
  EXPECT_EQ(validate(c).message(), "advertisement interval 4096 cs: it is 1..4095 centiseconds");
  c = config(kA, 100);
  c.addresses.push_back(kVip);
  EXPECT_EQ(validate(c).message(), "virtual address 198.51.100.100 is listed twice");
  c = config(kA, 100);
  c.priority = 0;
  EXPECT_EQ(validate(c).message(), "priority 0 is reserved (releasing); use 2..255");
  c.priority = 1;
  EXPECT_EQ(validate(c).message(), "priority 1 is reserved (the last word); use 2..255");
}

// Two routers on one link. Advertisements are delivered only while the link is up, in the
// order deliver() is called; `announcer` is who last sent gratuitous ARP, which is where a
// client's ARP cache points.
struct Link {
  Router a{config(kA, 100)};
  Router b{config(kB, 150)};
  bool up = true;
  std::vector<std::pair<Ipv4, std::uint8_t>> to_a, to_b;  // (source, priority) in flight
  std::optional<Ipv4> announcer;

  void run(Router& r, const Actions& actions) {
    for (const Action& x : actions) {
      if (const auto* s = std::get_if<SendAdvert>(&x); s && up) {
        (&r == &a ? to_b : to_a).emplace_back(r.config().self, s->priority);
      }
      if (std::holds_alternative<AnnounceAddresses>(x)) announcer = r.config().self;
    }
  }
  void deliver_to(Router& r, Time now) {
    auto& queue = &r == &a ? to_a : to_b;
    auto batch = std::move(queue);
    queue.clear();
    for (auto [src, priority] : batch) run(r, r.receive(advert(priority), src, now));
  }
  void tick(Time now) {
    run(a, a.tick(now));
    run(b, b.tick(now));
  }
};

enum class Heal { kAAdvertisesFirst, kBAdvertisesFirst, kAndTheLastWordIsLost };

// A split brain heals: each side has been master, and a announced last. However the first
// advertisements cross, one master remains and the last gratuitous ARP is its own.
void heal(Heal how) {
  Link link;
  link.run(link.a, link.a.start(ms(0)));
  link.run(link.b, link.b.start(ms(0)));
  link.up = false;
  for (int t = 0; t <= 10000; t += 100) link.tick(ms(t));
  ASSERT_EQ(link.a.state(), State::kMaster);
  ASSERT_EQ(link.b.state(), State::kMaster);
  ASSERT_EQ(link.announcer, kA);
  link.up = true;
  if (how == Heal::kAAdvertisesFirst) {
    link.run(link.a, link.a.tick(ms(20000)));
    link.deliver_to(link.b, ms(20001));  // b hears a worse master: re-asserts at once
  } else {
    // b's advertisement reaches a before a's timer fires: a steps down without having
    // advertised, so only its last word tells b to re-announce.
    link.run(link.b, link.b.tick(ms(20000)));
    link.deliver_to(link.a, ms(20001));
    if (how == Heal::kAndTheLastWordIsLost) {
      link.to_b.clear();
      link.tick(ms(21000));  // b's next advertisement; a answers it
      link.deliver_to(link.a, ms(21001));
    }
    link.deliver_to(link.b, ms(21002));
  }
  link.deliver_to(link.a, ms(21003));
  link.deliver_to(link.b, ms(21004));
  EXPECT_EQ(link.a.state(), State::kBackup);
  EXPECT_EQ(link.b.state(), State::kMaster);
  EXPECT_EQ(link.announcer, kB);
}

TEST(RouterPair, AHealedSplitBrainLeavesOneMasterThatAnnouncedLast) {
  heal(Heal::kAAdvertisesFirst);
  heal(Heal::kBAdvertisesFirst);
  heal(Heal::kAndTheLastWordIsLost);
}

// The master was partitioned from a router that took the address, announced it and then
// shut down; its priority 0 never arrived. When that router starts again its last word makes
// the master re-announce, so clients stop sending to the MAC that no longer has the address.
TEST(RouterPair, ARestartedRouterMakesTheMasterReannounce) {
  Link link;
  link.run(link.b, link.b.start(ms(0)));
  link.tick(ms(4000));
  ASSERT_EQ(link.b.state(), State::kMaster);
  link.announcer = kA;  // what clients hold from a's time as master
  link.run(link.a, link.a.start(ms(4000)));
  link.tick(ms(5000));
  link.deliver_to(link.a, ms(5001));
  link.deliver_to(link.b, ms(5002));
  EXPECT_EQ(link.announcer, kB);
  EXPECT_EQ(link.b.state(), State::kMaster);
}

TEST(RouterPair, AGracefulShutdownHandsOverWithinSkewTime) {
  Link link;
  link.run(link.b, link.b.start(ms(0)));
  link.run(link.a, link.a.start(ms(0)));
  link.tick(ms(3500));  // b (150) takes over before a (100)
  ASSERT_EQ(link.b.state(), State::kMaster);
  link.deliver_to(link.a, ms(3501));
  link.run(link.b, link.b.shutdown(ms(4000)));
  link.deliver_to(link.a, ms(4001));
  const Time skew = link.a.skew_time();
  EXPECT_EQ(link.a.next_deadline(), ms(4001) + skew);
  link.tick(ms(4001) + skew);
  EXPECT_EQ(link.a.state(), State::kMaster);
  EXPECT_EQ(link.announcer, kA);
}

}  // namespace
}  // namespace spofless::vrrp
