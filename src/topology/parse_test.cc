#include "topology/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spofless::topology {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_of(std::string_view yaml) {
  auto t = parse_topology(yaml);
  EXPECT_FALSE(t.is_ok()) << "expected an error for:\n" << yaml;
  return t.is_ok() ? "" : t.status().message();
}

TEST(ParseTopology, ReadsHostsComponentsAndDefaults) {
  auto t = parse_topology(R"(
name: shop
target_availability: 99.9%
defaults: {availability: 0.99, failover: 0.9}
hosts:
  - {name: h1, zone: z1, region: r1, address: 127.0.1.1}
  - {name: h2, zone: z2, region: r1}
components:
  - name: api
    kind: web
    placement: [h1, h2]
    load: 40%
    depends_on: [store]
  - {name: store, kind: db, replicas: 3, availability: 0.999, tolerate: 1}
)");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t->name, "shop");
  EXPECT_DOUBLE_EQ(*t->target_availability, 0.999);
  ASSERT_EQ(t->hosts.size(), 2u);
  EXPECT_EQ(t->hosts[0].address, "127.0.1.1");
  const Component* api = t->component("api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->mode, Mode::kActiveActive);   // the default for web
  EXPECT_EQ(api->replicas, 2u);                // from placement
  EXPECT_DOUBLE_EQ(*api->availability, 0.99);  // from defaults
  EXPECT_DOUBLE_EQ(api->failover, 0.9);
  EXPECT_DOUBLE_EQ(*api->load, 0.4);
  EXPECT_EQ(api->where.line, 9);
  const Component* store = t->component("store");
  EXPECT_EQ(store->mode, Mode::kQuorum);  // the default for db
  EXPECT_DOUBLE_EQ(*store->availability, 0.999);
}

TEST(ParseTopology, UnknownFieldIsNamedWithItsPosition) {
  std::string e = error_of("name: x\ncomponents:\n  - name: web\n    kind: web\n    replica: 3\n");
  EXPECT_THAT(e, StartsWith("5:5: components[0]: unknown field 'replica'"));
  EXPECT_THAT(e, HasSubstr("replicas"));  // the expected spellings are listed
}

TEST(ParseTopology, WrongTypeSaysWhatWasExpected) {
  std::string e = error_of("name: x\ncomponents:\n  - {name: web, kind: web, replicas: three}\n");
  EXPECT_THAT(e, StartsWith("3:38: components[0].replicas: expected a whole number from 1 to"));
  EXPECT_THAT(e, HasSubstr("got 'three'"));
}

TEST(ParseTopology, FractionsOutOfRangeAreRefused) {
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: a, kind: web, replicas: 1, "
                       "availability: 1.5}\n"),
              HasSubstr("components[0].availability: expected a fraction from 1e-09 to 1"));
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: a, kind: web, replicas: 1, "
                       "failover: '120%'}\n"),
              HasSubstr("components[0].failover"));
}

TEST(ParseTopology, PlacementMustMatchReplicasAndName) {
  const char* hosts = "name: x\nhosts:\n  - {name: h1, zone: z, region: r}\ncomponents:\n";
  EXPECT_THAT(error_of(std::string(hosts) + "  - {name: a, kind: web, replicas: 2, "
                                            "placement: [h1]}\n"),
              HasSubstr("lists 1 hosts but replicas is 2"));
  EXPECT_THAT(error_of(std::string(hosts) + "  - {name: a, kind: web, placement: [h1, h9]}\n"),
              HasSubstr("components[0].placement[1]: no host named 'h9'"));
}

TEST(ParseTopology, ReferencesMustExist) {
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: a, kind: web, replicas: 1, "
                       "depends_on: [b]}\n"),
              HasSubstr("components[0].depends_on[0]: 'b' is not a component"));
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: a, kind: web, replicas: 1, "
                       "fallback: a}\n"),
              HasSubstr("'a' is the component itself"));
}

TEST(ParseTopology, DependencyCyclesAreRefusedWithTheCycle) {
  std::string e = error_of(R"(name: x
components:
  - {name: a, kind: web, replicas: 2, depends_on: [b]}
  - {name: b, kind: cache, replicas: 2, fallback: c}
  - {name: c, kind: db, replicas: 3, depends_on: [a]}
)");
  EXPECT_THAT(e, HasSubstr("'a' depends on itself (through depends_on or fallback): "
                           "a -> b -> c -> a"));
  // Only the components on the cycle are named.
  std::string tail = error_of(R"(name: x
components:
  - {name: a, kind: web, replicas: 2, depends_on: [b]}
  - {name: b, kind: cache, replicas: 2, depends_on: [c]}
  - {name: c, kind: db, replicas: 3, depends_on: [b]}
)");
  EXPECT_THAT(tail, HasSubstr(": b -> c -> b"));
}

TEST(ParseTopology, SyntaxErrorsCarryLineAndColumn) {
  std::string e = error_of("name: x\ncomponents:\n  - {name: a, kind: web\n");
  EXPECT_THAT(e, HasSubstr("YAML syntax"));
  EXPECT_THAT(e, ::testing::MatchesRegex("^[0-9]+:[0-9]+: .*"));
}

TEST(ParseTopology, RepeatedFieldsAndNamesAreRefused) {
  EXPECT_THAT(error_of("name: x\nname: y\ncomponents: []\n"), HasSubstr("'name' appears twice"));
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: a, kind: web, replicas: 1}\n"
                       "  - {name: a, kind: db, replicas: 3}\n"),
              HasSubstr("components[1]: the name 'a' is used twice"));
}

TEST(ParseTopology, ZonesNestInOneRegion) {
  EXPECT_THAT(error_of("name: x\nhosts:\n  - {name: h1, zone: z, region: r1}\n"
                       "  - {name: h2, zone: z, region: r2}\n"
                       "components:\n  - {name: a, kind: web, replicas: 1}\n"),
              HasSubstr("zone 'z' is already in region 'r1'"));
}

TEST(ParseTopology, ExternalsHaveNoReplicasOfOurs) {
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: pay, kind: external, replicas: 2}\n"),
              HasSubstr("an external dependency has no replicas"));
}

TEST(ParseTopology, NamesAreDnsLabels) {
  EXPECT_THAT(error_of("name: x\ncomponents:\n  - {name: Web_1, kind: web, replicas: 1}\n"),
              HasSubstr("'Web_1' is not a valid name"));
}

TEST(ParseTopology, EmptyAndNonMappingInputs) {
  EXPECT_THAT(error_of(""), HasSubstr("no topology found"));
  EXPECT_THAT(error_of("- a\n- b\n"), HasSubstr("topology: expected a mapping"));
  EXPECT_THAT(error_of("name: x\n"), HasSubstr("at least one component"));
  EXPECT_THAT(error_of("version: 2\nname: x\n"), HasSubstr("reads version 1 files"));
}

TEST(ParseTopology, PositionsCountFromTheTopOfTheFileAfterADocumentMarker) {
  std::string e = error_of(
      "# a comment\n---\nname: x\ncomponents:\n  - {name: a, kind: wbe, "
      "replicas: 1}\n");
  EXPECT_THAT(e, StartsWith("5:21: components[0].kind: unknown kind 'wbe'"));
}

TEST(ParseTopology, ASecondDocumentIsRefused) {
  EXPECT_THAT(error_of("name: x\ncomponents: []\n---\nname: y\n"),
              StartsWith("3:1: expected one YAML document"));
}

// yaml-cpp 0.7's LoadAll loops forever on this stream (found by fuzz/topology_fuzz).
TEST(ParseTopology, MalformedStreamsEndInAnError) {
  EXPECT_THAT(error_of(",--\n---\n"), HasSubstr("no topology found"));
}

}  // namespace
}  // namespace spofless::topology
