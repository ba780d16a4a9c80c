#pragma once

// Declared metrics rendered in the Prometheus text exposition format (version 0.0.4).
//
// A role declares each metric once, at start-up, and keeps the returned reference:
//   auto& requests = registry.counter("spofless_admin_requests_total", "Admin requests.",
//                                     {{"path", "/metrics"}});
//   requests.inc();
// Updating a metric is lock-free and safe from any thread; declaring and rendering take
// the registry's lock. Metric objects live as long as the registry.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace spofless::obs {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with fixed upper bounds; +Inf is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Count of observations <= upper_bounds()[i]; index upper_bounds().size() is +Inf.
  std::uint64_t cumulative_count(std::size_t i) const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<double> sum_{0};
};

class Registry {
 public:
  // Returns the metric with this name and labels, declaring it on first use.
  // REQUIRES: a valid Prometheus name; one type and help text per name.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> upper_bounds, const Labels& labels = {});

  // Runs before every render, e.g. to set gauges that are read on demand. Called under
  // the registry lock: a hook must not declare metrics.
  void on_collect(std::function<void()> hook);

  std::string render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const std::string& help, Type type, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;    // GUARDED_BY(mu_)
  std::vector<std::function<void()>> hooks_;  // GUARDED_BY(mu_)
};

}  // namespace spofless::obs
