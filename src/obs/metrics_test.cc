#include "obs/metrics.h"

#include <gtest/gtest.h>

namespace spofless::obs {
namespace {

TEST(Metrics, CounterRendersHelpTypeAndLabelledSamples) {
  Registry r;
  r.counter("spofless_requests_total", "Requests served.", {{"code", "200"}}).inc(3);
  r.counter("spofless_requests_total", "Requests served.", {{"code", "503"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP spofless_requests_total Requests served.\n"
            "# TYPE spofless_requests_total counter\n"
            "spofless_requests_total{code=\"200\"} 3\n"
            "spofless_requests_total{code=\"503\"} 1\n");
}

TEST(Metrics, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  Counter& a = r.counter("x_total", "X.");
  Counter& b = r.counter("x_total", "X.");
  EXPECT_EQ(&a, &b);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.histogram("fsync_seconds", "Fsync latency.", {0.001, 0.01});
  h.observe(0.0005);
  h.observe(0.005);
  h.observe(0.5);
  EXPECT_EQ(r.render(),
            "# HELP fsync_seconds Fsync latency.\n"
            "# TYPE fsync_seconds histogram\n"
            "fsync_seconds_bucket{le=\"0.001\"} 1\n"
            "fsync_seconds_bucket{le=\"0.01\"} 2\n"
            "fsync_seconds_bucket{le=\"+Inf\"} 3\n"
            "fsync_seconds_sum 0.5055\n"
            "fsync_seconds_count 3\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.gauge("g", "Line one\\two\nthree", {{"path", "a\"b\\c\nd"}}).set(1.5);
  EXPECT_EQ(r.render(),
            "# HELP g Line one\\\\two\\nthree\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

TEST(Metrics, CollectHooksRunBeforeRendering) {
  Registry r;
  Gauge& g = r.gauge("queue_depth", "Items queued.");
  int depth = 0;
  r.on_collect([&] { g.set(depth); });
  depth = 42;
  EXPECT_NE(r.render().find("queue_depth 42\n"), std::string::npos);
}

TEST(MetricsDeathTest, OneNameHasOneType) {
  Registry r;
  r.counter("dual", "A counter.");
  EXPECT_DEATH(r.gauge("dual", "Now a gauge."), "one type");
}

TEST(MetricsDeathTest, InvalidNameIsAProgrammerError) {
  Registry r;
  EXPECT_DEATH(r.counter("bad-name", "Dash."), "metric name");
}

}  // namespace
}  // namespace spofless::obs
