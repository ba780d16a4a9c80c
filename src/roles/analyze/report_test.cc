#include "roles/analyze/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spofless::roles {
namespace {

using ::testing::HasSubstr;

AnalyzedInput analyzed(const char* yaml) {
  auto a = topology::analyze_text(yaml);
  EXPECT_TRUE(a.is_ok()) << a.status().message();
  return AnalyzedInput{"shop.yaml", a.is_ok() ? *a : topology::Analysis{}};
}

constexpr const char* kShop = R"(name: shop
target_availability: 0.9999
components:
  - {name: web, kind: web, replicas: 2, availability: 0.99, depends_on: [db]}
  - {name: db, kind: db, replicas: 1, availability: 0.999}
)";

TEST(InputError, SplitsLineAndColumn) {
  InputError e = input_error("x.yaml", "12:5: components[2].replicas: expected a number");
  EXPECT_EQ(e.line, 12);
  EXPECT_EQ(e.column, 5);
  EXPECT_EQ(render_error(e), "x.yaml:12:5: error: components[2].replicas: expected a number\n");
  InputError plain = input_error("x.yaml", "cannot open: No such file or directory");
  EXPECT_EQ(plain.line, 0);
  EXPECT_EQ(render_error(plain), "x.yaml: error: cannot open: No such file or directory\n");
}

TEST(RenderText, ShowsSummaryComponentsFindingsAndAvailability) {
  std::string text = render_text(analyzed(kShop), topology::Severity::kInfo, 100);
  EXPECT_THAT(text, HasSubstr("shop (shop.yaml): 2 errors"));
  EXPECT_THAT(text, HasSubstr("COMPONENT  KIND      MODE"));
  EXPECT_THAT(text, HasSubstr("error     db"));
  EXPECT_THAT(text, HasSubstr("why: while its one replica is down"));
  EXPECT_THAT(text, HasSubstr("at:  shop.yaml:5:5"));
  EXPECT_THAT(text, HasSubstr("target 99.990% MISSED"));
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    EXPECT_LE(end - start, 100u) << text.substr(start, end - start);
  }
}

TEST(RenderText, MinSeverityHidesNotes) {
  std::string text = render_text(analyzed(kShop), topology::Severity::kError, 100);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("info ")));
}

TEST(RenderJson, CarriesFindingsAvailabilityAndExitCode) {
  auto j = render_json({analyzed(kShop)}, {input_error("bad.yaml", "3:1: oops")}, 2);
  EXPECT_EQ(j["files"][0]["system"], "shop");
  EXPECT_EQ(j["files"][0]["input"], "topology");
  EXPECT_EQ(j["files"][0]["findings"][0]["code"], "spof");
  EXPECT_EQ(j["files"][0]["findings"][0]["line"], 5);
  EXPECT_NEAR(j["files"][0]["availability"]["target"].get<double>(), 0.9999, 1e-12);
  EXPECT_EQ(j["input_errors"][0]["line"], 3);
  EXPECT_EQ(j["summary"]["exit_code"], 2);
  EXPECT_GE(j["summary"]["errors"].get<int>(), 1);
}

}  // namespace
}  // namespace spofless::roles
