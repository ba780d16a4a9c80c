#include "topology/analyze.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "topology/parse.h"

namespace spofless::topology {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kThreeZones = R"(
hosts:
  - {name: a1, zone: za, region: r1}
  - {name: a2, zone: za, region: r1}
  - {name: b1, zone: zb, region: r1}
  - {name: c1, zone: zc, region: r1}
  - {name: d1, zone: zd, region: r1}
)";

Report run(const std::string& components) {
  auto t = parse_topology("name: t\n" + std::string(kThreeZones) + "components:\n" + components);
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return t.is_ok() ? analyze(*t) : Report{};
}

// "code:component" of every finding at `severity` or above, excluding system-wide notes.
std::vector<std::string> codes(const Report& r, Severity at_least = Severity::kWarning) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings) {
    if (f.severity >= at_least) out.push_back(f.code + ":" + f.component);
  }
  return out;
}

TEST(AnalyzeQuorum, TwoVotersTolerateNothing) {
  Report r = run("  - {name: db, kind: db, mode: quorum, placement: [a1, b1]}\n");
  EXPECT_THAT(codes(r), ElementsAre("quorum-size:db"));
  EXPECT_THAT(r.findings[0].finding, HasSubstr("majority of 2 is 2"));
}

TEST(AnalyzeQuorum, EvenCountBuysNothing) {
  Report r = run("  - {name: db, kind: db, placement: [a1, b1, c1, d1]}\n");
  EXPECT_THAT(codes(r), ElementsAre("quorum-even:db"));
  EXPECT_THAT(r.findings[0].finding, HasSubstr("4 voters tolerate 1 failure, no more than 3"));
}

TEST(AnalyzeQuorum, ToleratingTwoNeedsFiveVoters) {
  Report r = run("  - {name: db, kind: db, tolerate: 2, placement: [a1, b1, c1]}\n");
  EXPECT_THAT(codes(r), ElementsAre("quorum-size:db"));
  EXPECT_THAT(r.findings[0].fix, HasSubstr("run 5 voters"));
}

TEST(AnalyzeQuorum, MajorityInOneZoneIsASharedDomain) {
  // za holds 2 of 3 voters: losing it leaves 1, short of the majority of 2.
  Report r = run("  - {name: db, kind: db, placement: [a1, a2, b1]}\n");
  EXPECT_THAT(codes(r), ElementsAre("shared-domain:db"));
  EXPECT_THAT(r.findings[0].finding,
              HasSubstr("zone za holds 2 of 3 voters; losing it leaves 1, short of the majority "
                        "of 2"));
}

TEST(AnalyzeDomains, ReplicasOnOneHostReportTheHostNotItsZone) {
  Report r = run("  - {name: web, kind: web, placement: [a1, a1]}\n");
  EXPECT_THAT(codes(r), ElementsAre("shared-domain:web"));
  EXPECT_THAT(r.findings[0].finding, HasSubstr("all 2 replicas are in host a1"));
}

TEST(AnalyzeDomains, SharingARegionIsAWarning) {
  auto t = parse_topology(R"(name: t
hosts:
  - {name: a1, zone: za, region: r1}
  - {name: b1, zone: zb, region: r1}
  - {name: e1, zone: ze, region: r2}
components:
  - {name: web, kind: web, placement: [a1, b1]}
)");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  Report r = analyze(*t);
  ASSERT_EQ(r.findings[0].code, "shared-domain");
  EXPECT_EQ(r.findings[0].severity, Severity::kWarning);
  EXPECT_THAT(r.findings[0].finding, HasSubstr("region r1"));
}

TEST(AnalyzeDomains, LosingAZoneCanLeaveTooLittleCapacity) {
  // 3 x 60% = 180%; losing za (2 replicas) leaves c1 alone at 180%.
  Report r = run("  - {name: web, kind: web, load: 0.6, placement: [a1, a2, c1]}\n");
  EXPECT_THAT(codes(r, Severity::kError), ElementsAre("shared-domain:web"));
  EXPECT_THAT(r.findings[0].finding, HasSubstr("the 1 left would run at 180%"));
}

TEST(AnalyzeDomains, UnplacedReplicasCannotBeJudged) {
  Report r = run("  - {name: web, kind: web, replicas: 3}\n");
  EXPECT_THAT(codes(r, Severity::kInfo), ::testing::Contains("unplaced:web"));
}

TEST(AnalyzeSpof, OneCacheNodeWithFallbackDegradesInsteadOfStopping) {
  Report r =
      run("  - {name: web, kind: web, placement: [a1, b1, c1, d1], depends_on: [cache, db]}\n"
          "  - {name: cache, kind: cache, placement: [a1], fallback: db}\n"
          "  - {name: db, kind: db, placement: [a1, b1, c1, d1, a2]}\n");
  EXPECT_THAT(codes(r), ElementsAre("degraded-fallback:cache"));
  EXPECT_THAT(r.findings[0].why, HasSubstr("thundering herd"));
}

TEST(AnalyzeSpof, ComponentsOffTheRequestPathAreNotSpofs) {
  Report r =
      run("  - {name: web, kind: web, placement: [a1, b1, c1, d1]}\n"
          "  - {name: reports, kind: web, replicas: 1, request_path: false}\n");
  EXPECT_THAT(codes(r), IsEmpty());
}

TEST(AnalyzeCapacity, AlreadyOverloaded) {
  Report r = run("  - {name: web, kind: web, load: 1.2, placement: [a1, b1, c1, d1]}\n");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::Contains("overloaded:web"));
}

TEST(AnalyzeCapacity, ActivePassiveDoesNotRedistributeLoad) {
  // The standby takes over the same load: 90% before and after.
  Report r = run("  - {name: lb, kind: lb, load: 0.9, placement: [a1, b1, c1, d1]}\n");
  EXPECT_THAT(codes(r), IsEmpty());
}

TEST(AnalyzeCapacity, TooFewReplicasForTolerate) {
  Report r = run("  - {name: lb, kind: lb, tolerate: 2, placement: [a1, d1]}\n");
  EXPECT_THAT(codes(r), ElementsAre("tolerance:lb"));
}

TEST(AnalyzeRequestPath, EntriesAndTheirDependencies) {
  auto t = parse_topology(R"(name: t
components:
  - {name: lb, kind: lb, replicas: 2, depends_on: [web]}
  - {name: web, kind: web, replicas: 2, depends_on: [pay]}
  - {name: pay, kind: external, fallback: pay2}
  - {name: pay2, kind: external}
  - {name: batch, kind: web, replicas: 1, request_path: false, depends_on: [warehouse]}
  - {name: warehouse, kind: db, replicas: 1}
)");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(request_path(*t), (std::set<std::string>{"lb", "web", "pay"}));
}

TEST(AnalyzeAvailability, FallbackOffThePathAddsItsAvailability) {
  auto t = parse_topology(R"(name: t
components:
  - {name: web, kind: web, replicas: 1, availability: 1, depends_on: [pay]}
  - {name: pay, kind: external, availability: 0.99, failover: 0.5, fallback: pay2}
  - {name: pay2, kind: external, availability: 0.9}
)");
  ASSERT_TRUE(t.is_ok());
  Report r = analyze(*t);
  ASSERT_TRUE(r.end_to_end.has_value());
  EXPECT_NEAR(*r.end_to_end, 0.99 + 0.01 * 0.5 * 0.9, 1e-12);
}

TEST(AnalyzeAvailability, UnknownWhenAPathComponentHasNone) {
  auto t = parse_topology(R"(name: t
components:
  - {name: web, kind: web, replicas: 2, availability: 0.99, depends_on: [db]}
  - {name: db, kind: db, replicas: 3}
)");
  ASSERT_TRUE(t.is_ok());
  Report r = analyze(*t);
  EXPECT_FALSE(r.end_to_end.has_value());
  EXPECT_THAT(r.availability_unknown_for, ElementsAre("db"));
}

TEST(AnalyzeAvailability, WeakFailoverIsNoted) {
  Report r =
      run("  - {name: db, kind: db, availability: 0.99, failover: 0.3, "
          "placement: [a1, b1, c1]}\n");
  EXPECT_THAT(codes(r, Severity::kInfo), ::testing::Contains("failover-weak:db"));
}

TEST(AnalyzeReport, ErrorsComeFirst) {
  Report r =
      run("  - {name: web, kind: web, replicas: 2, depends_on: [db]}\n"
          "  - {name: db, kind: db, replicas: 1}\n");
  ASSERT_GE(r.findings.size(), 2u);
  EXPECT_EQ(r.findings.front().severity, Severity::kError);
  EXPECT_EQ(r.findings.back().severity, Severity::kInfo);
}

TEST(AnalyzeDomains, EverythingOnTheOnlyHostIsAnError) {
  auto t = parse_topology(R"(name: t
hosts: [{name: h1, zone: z, region: r}]
components:
  - {name: web, kind: web, placement: [h1, h1, h1], depends_on: [db]}
  - {name: db, kind: db, placement: [h1, h1, h1]}
)");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  Report r = analyze(*t);
  EXPECT_THAT(codes(r, Severity::kError), ElementsAre("shared-domain:web", "shared-domain:db"));
  EXPECT_THAT(codes(r, Severity::kWarning), ::testing::Contains("single-zone:"));
  // A worse finding is not followed by the reassuring "no N+2 yet" note.
  EXPECT_THAT(codes(r, Severity::kInfo), ::testing::Not(::testing::Contains("maintenance:db")));
}

TEST(AnalyzeCapacity, AnOverloadedActivePassiveOrQuorumIsAnError) {
  Report r =
      run("  - {name: lb, kind: lb, load: 3.0, placement: [a1, b1]}\n"
          "  - {name: db, kind: db, load: 1.5, placement: [a1, b1, c1]}\n");
  EXPECT_THAT(codes(r, Severity::kError), ElementsAre("overloaded:lb", "overloaded:db"));
}

TEST(AnalyzeCapacity, OverloadFixCountsTheToleratedFailure) {
  // 2 x 150% = 300%: 3 replicas would run at 100% and fail on the first loss; 4 will not.
  Report r = run("  - {name: web, kind: web, load: 1.5, placement: [a1, b1]}\n");
  ASSERT_EQ(r.findings[0].code, "overloaded");
  EXPECT_THAT(r.findings[0].fix, HasSubstr("run 4 replicas"));
}

TEST(AnalyzeAvailability, AnOverloadedComponentIsUnavailable) {
  auto t = parse_topology(R"(name: t
target_availability: 0.99
components:
  - {name: web, kind: web, replicas: 2, availability: 0.999, load: 1.5}
)");
  ASSERT_TRUE(t.is_ok());
  Report r = analyze(*t);
  EXPECT_DOUBLE_EQ(*r.end_to_end, 0.0);
  EXPECT_THAT(codes(r, Severity::kError), ::testing::Contains("availability-target:"));
}

TEST(AnalyzeAvailability, NoParadoxWhenTheLoadNeedsEveryReplica) {
  // 2 x 90% needs both replicas: below one replica's availability even with perfect
  // failover. That is capacity (reported by the maintenance note), not failover.
  auto t = parse_topology(R"(name: t
components:
  - {name: web, kind: web, replicas: 2, availability: 0.99, load: 0.9, tolerate: 0}
)");
  ASSERT_TRUE(t.is_ok());
  Report r = analyze(*t);
  for (const Finding& f : r.findings) EXPECT_NE(f.code, "availability-paradox");
}

TEST(AnalyzeAvailability, AFallbacksOwnDependenciesCount) {
  auto t = parse_topology(R"(name: t
components:
  - {name: web, kind: web, replicas: 1, availability: 1, depends_on: [cache]}
  - {name: cache, kind: cache, replicas: 1, availability: 0.9, failover: 1, fallback: db}
  - {name: db, kind: db, replicas: 1, availability: 1, depends_on: [pay]}
  - {name: pay, kind: external, availability: 0.5}
)");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  Report r = analyze(*t);
  EXPECT_NEAR(*r.end_to_end, 0.9 + 0.1 * 1.0 * 0.5, 1e-12);
}

TEST(AnalyzeAvailability, NoRequestPathMeansNoEstimate) {
  auto t = parse_topology(R"(name: t
target_availability: 0.99999
components:
  - {name: batch, kind: web, replicas: 2, availability: 0.9, request_path: false}
)");
  ASSERT_TRUE(t.is_ok());
  Report r = analyze(*t);
  ASSERT_EQ(r.components.size(), 1u);
  EXPECT_FALSE(r.components[0].on_request_path);
  EXPECT_FALSE(r.end_to_end.has_value());
  EXPECT_THAT(codes(r, Severity::kInfo), ::testing::Contains("empty-request-path:"));
}

}  // namespace
}  // namespace spofless::topology
