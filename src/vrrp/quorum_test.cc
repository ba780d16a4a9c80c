// The split-brain guard's endorsements: a voter's exclusive lease, the asker's conservative
// count of it, and (rapidcheck) that two routers never hold a majority at once, whatever the
// network drops or delays, with voters restarting and clocks drifting within the margin.

#include "vrrp/quorum.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace spofless::vrrp {
namespace {

using std::chrono::milliseconds;

constexpr Ipv4 kA{0xC6336401};
constexpr Ipv4 kB{0xC6336402};
constexpr Ipv4 kW{0xC6336409};
constexpr Time kLease = milliseconds{3000};

Time ms(std::int64_t n) { return milliseconds{n}; }

Ask ask(Ipv4 from, std::uint8_t priority, std::uint64_t seq) { return Ask{from, kW, priority, seq}; }

TEST(Voter, EndorsesOneRouterAtATime) {
  Voter w(kW, kLease, ms(0));
  EXPECT_FALSE(w.ask(ask(kA, 100, 1), ms(2999)).granted);  // quiet after starting
  EXPECT_TRUE(w.ask(ask(kA, 100, 2), ms(3000)).granted);
  EXPECT_FALSE(w.ask(ask(kB, 150, 1), ms(4000)).granted);
  EXPECT_TRUE(w.ask(ask(kA, 100, 3), ms(5000)).granted);   // renewed: until 8 s
  EXPECT_FALSE(w.ask(ask(kB, 150, 2), ms(7999)).granted);
  EXPECT_TRUE(w.ask(ask(kB, 150, 3), ms(8000)).granted);   // a's lease ran out
  EXPECT_EQ(w.holder(ms(8000)), kB);
  EXPECT_EQ(w.holder(ms(11000)), std::nullopt);
  EXPECT_FALSE(w.ask(Ask{kA, kB, 100, 4}, ms(20000)).granted);  // addressed to another voter
}

TEST(Voter, AReleaseFreesItOnlyIfItCoversTheNewestGrant) {
  Voter w(kW, kLease, ms(0));
  ASSERT_TRUE(w.ask(ask(kA, 100, 1), ms(3000)).granted);
  w.release(Release{kB, kW, 9});  // not the holder: nothing
  EXPECT_FALSE(w.ask(ask(kB, 150, 1), ms(3100)).granted);
  ASSERT_TRUE(w.ask(ask(kA, 100, 2), ms(3200)).granted);
  w.release(Release{kA, kW, 1});  // overtaken by the grant of ask 2: nothing
  EXPECT_FALSE(w.ask(ask(kB, 150, 2), ms(3300)).granted);
  w.release(Release{kA, kW, 2});
  EXPECT_TRUE(w.ask(ask(kB, 150, 3), ms(3400)).granted);
}

TEST(Voter, TellsTheHolderOfABetterContender) {
  Voter w(kW, kLease, ms(0));
  ASSERT_TRUE(w.ask(ask(kA, 100, 1), ms(3000)).granted);
  EXPECT_FALSE(w.ask(ask(kB, 150, 1), ms(3100)).granted);
  const Grant g = w.ask(ask(kA, 100, 2), ms(4000));
  EXPECT_TRUE(g.granted);
  EXPECT_EQ(g.asker, kA);
  EXPECT_EQ(g.contender_priority, 150);
  EXPECT_EQ(w.ask(ask(kA, 100, 3), ms(5000)).contender_priority, 0);  // reported once
}

TEST(Ballot, CountsAGrantFromWhenItAskedLessTheDriftMargin) {
  Ballot b(kA, {kA, kB, kW}, kLease, 100, 10);
  EXPECT_EQ(b.majority(), 2u);
  const auto asks = b.asks(100, ms(1000));
  ASSERT_EQ(asks.size(), 3u);
  const std::uint64_t seq = asks.front().seq;
  EXPECT_EQ(seq, 100u);
  b.on_grant({kA, kA, seq, true, 0});
  EXPECT_FALSE(b.has_majority(ms(1100)));
  b.on_grant({kW, kA, seq, true, 0});
  EXPECT_TRUE(b.has_majority(ms(1100)));
  // Valid until the ask's time plus 90 % of the lease: 1 s + 2.7 s.
  EXPECT_EQ(b.majority_until(), ms(3700));
  EXPECT_TRUE(b.has_majority(ms(3699)));
  EXPECT_FALSE(b.has_majority(ms(3700)));
}

TEST(Ballot, IgnoresGrantsItDidNotAskFor) {
  Ballot b(kA, {kA, kB, kW}, kLease, 100, 10);
  const std::uint64_t seq = b.asks(100, ms(1000)).front().seq;
  b.on_grant({kA, kA, seq, true, 0});  // one valid grant; one more would make a majority
  b.on_grant({kW, kA, seq + 1, true, 0});        // an ask never sent
  b.on_grant({Ipv4{0x01020304}, kA, seq, true, 0});  // not a voter
  b.on_grant({kW, kB, seq, true, 0});            // for another asker
  EXPECT_FALSE(b.has_majority(ms(1100)));
  b.on_grant({kW, kA, seq, true, 0});
  EXPECT_TRUE(b.has_majority(ms(1100)));
}

TEST(Ballot, ARefusalOrAReleaseDropsTheGrant) {
  Ballot b(kA, {kA, kB, kW}, kLease, 1, 10);
  const std::uint64_t seq = b.asks(100, ms(0)).front().seq;
  b.on_grant({kA, kA, seq, true, 0});
  b.on_grant({kW, kA, seq, true, 150});
  EXPECT_TRUE(b.has_majority(ms(10)));
  EXPECT_EQ(b.contender_priority(ms(10)), 150);
  b.on_grant({kW, kA, seq, false, 0});
  EXPECT_FALSE(b.has_majority(ms(10)));
  b.on_grant({kW, kA, seq, true, 0});
  const std::vector<Release> released = b.release();
  ASSERT_EQ(released.size(), 3u);
  EXPECT_EQ(released.front().seq, seq);
  EXPECT_FALSE(b.has_majority(ms(10)));
  b.on_grant({kA, kA, seq, true, 0});  // from before the release: forgotten
  b.on_grant({kW, kA, seq, true, 0});
  EXPECT_FALSE(b.has_majority(ms(10)));
}

// Routers that ask, release and restart at random (a restarted router numbers its asks above
// its earlier run's, as the shell does from the wall clock), voters (the routers' own and
// witnesses) that restart at random, every message dropped or delayed up to twice the lease,
// and every node's clock running at its own rate within ±4 % (the margin is 10 %). At every
// step at most one router holds a majority.
RC_GTEST_PROP(QuorumProperty, TwoRoutersNeverHoldAMajorityAtOnce, ()) {
  const auto routers = *rc::gen::inRange<std::size_t>(2, 4);
  const auto witnesses = *rc::gen::inRange<std::size_t>(0, 3);
  const std::size_t nodes = routers + witnesses;
  std::vector<Ipv4> voters;
  std::vector<double> rate;
  for (std::size_t i = 0; i < nodes; ++i) {
    voters.push_back(Ipv4{0xC6336401 + static_cast<std::uint32_t>(i)});
    rate.push_back(1.0 + *rc::gen::inRange(-40, 41) / 1000.0);
  }
  auto local = [&](std::size_t node, Time real) {
    return Time{static_cast<std::int64_t>(std::floor(static_cast<double>(real.count()) * rate[node]))};
  };
  auto index_of = [&](Ipv4 a) { return static_cast<std::size_t>(a.value - voters[0].value); };
  std::vector<Voter> voter;
  std::vector<Ballot> ballot;
  std::uint64_t next_run_seq = 1;  // every run of every router starts above all earlier seqs
  for (std::size_t i = 0; i < nodes; ++i) voter.emplace_back(voters[i], kLease, local(i, Time{0}));
  for (std::size_t r = 0; r < routers; ++r) {
    ballot.emplace_back(voters[r], voters, kLease, next_run_seq, 10);
    next_run_seq += 1'000'000;
  }

  using Body = std::variant<Ask, Grant, Release>;
  struct Msg {
    Time at;  // real time of delivery
    std::size_t to;
    Body body;
  };
  std::vector<Msg> flight;
  auto send = [&](std::size_t to, Body body, Time now) {
    if (*rc::gen::inRange(0, 4) == 0) return;  // dropped
    flight.push_back({now + Time{milliseconds{*rc::gen::inRange(0, 6000)}}, to, std::move(body)});
  };
  for (Time now{0}; now < ms(60000); now += ms(100)) {
    for (std::size_t r = 0; r < routers; ++r) {
      switch (*rc::gen::inRange(0, 40)) {
        case 0:  // steps down
          for (const Release& rel : ballot[r].release()) send(index_of(rel.voter), rel, now);
          break;
        case 1:  // crashes and restarts, forgetting its grants
          ballot[r] = Ballot(voters[r], voters, kLease, next_run_seq, 10);
          next_run_seq += 1'000'000;
          break;
        default:
          if (*rc::gen::inRange(0, 3) != 0) break;
          for (const Ask& a : ballot[r].asks(100, local(r, now))) send(index_of(a.voter), a, now);
      }
    }
    if (*rc::gen::inRange(0, 50) == 0) {
      const auto v = *rc::gen::inRange<std::size_t>(0, nodes);
      voter[v] = Voter(voters[v], kLease, local(v, now));  // restarts, forgetting its grant
    }
    std::vector<Msg> due;
    for (auto it = flight.begin(); it != flight.end();) {
      if (it->at <= now) {
        due.push_back(std::move(*it));
        it = flight.erase(it);
      } else {
        ++it;
      }
    }
    for (const Msg& m : due) {
      if (const auto* a = std::get_if<Ask>(&m.body)) {
        send(index_of(a->from), voter[m.to].ask(*a, local(m.to, now)), now);
      } else if (const auto* g = std::get_if<Grant>(&m.body)) {
        ballot[m.to].on_grant(*g);
      } else {
        voter[m.to].release(std::get<Release>(m.body));
      }
    }
    std::size_t holding = 0;
    for (std::size_t r = 0; r < routers; ++r) holding += ballot[r].has_majority(local(r, now));
    RC_ASSERT(holding <= 1u);
  }
}

}  // namespace
}  // namespace spofless::vrrp
