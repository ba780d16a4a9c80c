#include "topology/availability.h"

#include <gtest/gtest.h>

namespace spofless::topology {
namespace {

Component pair(Mode mode, double a, double failover, std::uint32_t replicas = 2) {
  Component c;
  c.name = "x";
  c.kind = Kind::kWeb;
  c.mode = mode;
  c.replicas = replicas;
  c.availability = a;
  c.failover = failover;
  return c;
}

// The seeds' worked example: 0.99 + 0.01 x 0.95 x 0.99 = 99.94%.
TEST(Availability, ActivePassivePairIsTheSeedsFormula) {
  EXPECT_NEAR(component_availability(pair(Mode::kActivePassive, 0.99, 0.95)), 0.999405, 1e-9);
  EXPECT_NEAR(component_availability(pair(Mode::kActivePassive, 0.99, 0.50)), 0.99495, 1e-9);
}

TEST(Availability, ActivePassiveWithPerfectFailoverNeedsOneOfN) {
  EXPECT_NEAR(component_availability(pair(Mode::kActivePassive, 0.9, 1.0, 3)), 1 - 0.001, 1e-12);
}

TEST(Availability, ActiveActiveCountsEveryFailureThatNeedsFailover) {
  // Both up, or one up and the other's failure routed around: a^2 + 2a(1-a)f.
  EXPECT_NEAR(component_availability(pair(Mode::kActiveActive, 0.99, 0.5)),
              0.9801 + 2 * 0.99 * 0.01 * 0.5, 1e-12);
}

TEST(Availability, ActiveActiveNeedsEnoughReplicasForTheLoad) {
  Component c = pair(Mode::kActiveActive, 0.9, 1.0, 3);
  c.load = 0.6;  // 180% of one replica: 2 of 3 needed
  EXPECT_NEAR(component_availability(c), 0.729 + 3 * 0.81 * 0.1, 1e-12);
}

TEST(Availability, QuorumOfThreeNeedsTwo) {
  // With perfect elections: P(at least 2 of 3 up).
  Component c = pair(Mode::kQuorum, 0.9, 1.0, 3);
  EXPECT_NEAR(component_availability(c), 0.729 + 3 * 0.81 * 0.1, 1e-12);
}

TEST(Availability, QuorumElectionReliabilityOnlyMattersWhenTheLeaderFails) {
  Component c = pair(Mode::kQuorum, 0.9, 0.0, 3);
  // The leader must be up, with at least one of the other two.
  EXPECT_NEAR(component_availability(c), 0.9 * (1 - 0.01), 1e-12);
}

TEST(Availability, OneReplicaIsItsOwnAvailability) {
  for (Mode m : {Mode::kActiveActive, Mode::kActivePassive, Mode::kQuorum}) {
    EXPECT_DOUBLE_EQ(component_availability(pair(m, 0.97, 0.3, 1)), 0.97);
  }
}

TEST(Availability, QuorumToleratesFloorOfNMinusOneOverTwo) {
  for (std::uint32_t n = 1; n <= 7; ++n) {
    EXPECT_EQ(failures_tolerated(pair(Mode::kQuorum, 0.9, 1.0, n)), (n - 1) / 2) << n;
  }
  EXPECT_EQ(quorum_size(2), 2u);
  EXPECT_EQ(quorum_size(5), 3u);
}

TEST(Availability, BinomialTailMatchesDirectSums) {
  EXPECT_NEAR(at_least(2, 3, 0.5), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(at_least(0, 3, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(at_least(4, 3, 0.9), 0.0);
  EXPECT_NEAR(at_least(500, 1000, 0.5), 0.5 + 0.5 * 0.025225, 1e-4);  // large n stays finite
}

TEST(Availability, NinesAndDowntime) {
  EXPECT_NEAR(nines(0.999), 3.0, 1e-9);
  EXPECT_NEAR(downtime_seconds_per_year(0.999), 31557.6, 1e-6);
}

}  // namespace
}  // namespace spofless::topology
