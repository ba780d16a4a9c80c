// Every file in examples/ with the verdict it is there to show.

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "topology/analyze.h"
#include "topology/parse.h"

namespace spofless::topology {
namespace {

using ::testing::HasSubstr;

Report analyze_example(const std::string& file) {
  std::ifstream in(std::string(SPOFLESS_SOURCE_DIR) + "/examples/" + file);
  EXPECT_TRUE(in) << file;
  std::stringstream text;
  text << in.rdbuf();
  auto t = parse_topology(text.str());
  EXPECT_TRUE(t.is_ok()) << file << ": " << t.status().message();
  return t.is_ok() ? analyze(*t) : Report{};
}

std::vector<std::string> codes(const Report& r, Severity severity) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings) {
    if (f.severity == severity) out.push_back(f.code + ":" + f.component);
  }
  return out;
}

const Finding* find(const Report& r, const std::string& code) {
  for (const Finding& f : r.findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

TEST(Examples, DefaultStackHasNoErrorOrWarning) {
  Report r = analyze_example("default.yaml");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::IsEmpty());
  EXPECT_THAT(codes(r, Severity::kWarning), ::testing::IsEmpty());
  // N+1, not N+2: the notes say so, per tier.
  EXPECT_THAT(codes(r, Severity::kInfo),
              ::testing::UnorderedElementsAre("single-region:", "maintenance:lb", "maintenance:web",
                                              "maintenance:db"));
  ASSERT_TRUE(r.end_to_end.has_value());
  EXPECT_GT(*r.end_to_end, 0.9995);  // meets its own target
  EXPECT_LT(*r.end_to_end, 1.0);
}

TEST(Examples, SingleLoadBalancerIsASpof) {
  Report r = analyze_example("single-lb.yaml");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::ElementsAre("spof:lb"));
  EXPECT_THAT(find(r, "spof")->why, HasSubstr("every client request"));
}

TEST(Examples, RedundantWebBehindOneDatabase) {
  Report r = analyze_example("single-db.yaml");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::ElementsAre("spof:db"));
  EXPECT_THAT(find(r, "spof")->why, HasSubstr("web and everything behind it"));
}

TEST(Examples, ThreePodsAtSeventyPercentAreNotNPlusOne) {
  Report r = analyze_example("n-plus-one-at-70.yaml");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::ElementsAre("capacity:api"));
  const Finding* f = find(r, "capacity");
  EXPECT_THAT(f->finding, HasSubstr("each of the 2 surviving replicas would run at 105%"));
  EXPECT_THAT(f->fix, HasSubstr("run 4 replicas"));
  EXPECT_THAT(f->fix, HasSubstr("66.7%"));
}

TEST(Examples, TwoDatabaseNodesInOneZone) {
  Report r = analyze_example("db-one-zone.yaml");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::ElementsAre("shared-domain:db"));
  EXPECT_THAT(find(r, "shared-domain")->finding, HasSubstr("all 2 replicas are in zone zone-a"));
}

TEST(Examples, PaymentProviderWithoutFallback) {
  Report r = analyze_example("payment-no-fallback.yaml");
  EXPECT_THAT(codes(r, Severity::kError), ::testing::ElementsAre("spof:payments"));
  EXPECT_THAT(find(r, "spof")->finding, HasSubstr("external dependency with no fallback"));
  EXPECT_THAT(find(r, "spof")->why, HasSubstr("checkout and everything behind it"));
}

TEST(Examples, RedundancyParadox) {
  Report r = analyze_example("redundancy-paradox.yaml");
  EXPECT_THAT(codes(r, Severity::kWarning), ::testing::ElementsAre("availability-paradox:app"));
  EXPECT_THAT(codes(r, Severity::kError), ::testing::ElementsAre("availability-target:"));
  EXPECT_NEAR(*r.end_to_end, 0.98802, 1e-9);
}

}  // namespace
}  // namespace spofless::topology
