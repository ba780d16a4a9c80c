#include "obs/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::obs {
namespace {

void atomic_add(std::atomic<double>& target, double delta) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}

bool valid_name(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string escape(const std::string& text, bool quote_too) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote_too && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// {a="x",b="y"}, or "" without labels; `extra` is appended last (a histogram's le).
std::string label_text(const Labels& labels, const std::string& extra = {}) {
  std::string out;
  for (const auto& [k, v] : labels) {
    out += out.empty() ? "{" : ",";
    out += fmt::format("{}=\"{}\"", k, escape(v, true));
  }
  if (!extra.empty()) out += (out.empty() ? "{" : ",") + extra;
  return out.empty() ? out : out + "}";
}

}  // namespace

void Gauge::add(double delta) { atomic_add(value_, delta); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<std::uint64_t>[upper_bounds_.size() + 1]) {
  SPOFLESS_CHECK(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()),
                 "histogram bounds must increase");
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::observe(double v) {
  auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v);
  counts_[static_cast<std::size_t>(it - upper_bounds_.begin())].fetch_add(
      1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

std::uint64_t Histogram::cumulative_count(std::size_t i) const {
  SPOFLESS_CHECK(i <= upper_bounds_.size(), "bucket index out of range");
  std::uint64_t total = 0;
  for (std::size_t b = 0; b <= i; ++b) total += counts_[b].load(std::memory_order_relaxed);
  return total;
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, Type type,
                                   const Labels& labels) {
  SPOFLESS_CHECK(valid_name(name, true), "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  for (const auto& [k, v] : labels) {
    SPOFLESS_CHECK(valid_name(k, false) && k.rfind("__", 0) != 0, "invalid label name");
    SPOFLESS_CHECK(k != "le", "'le' is reserved for histogram buckets");
  }
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}, {}, {}});
  SPOFLESS_CHECK(it->second.type == type, "a metric name is declared with one type only");
  return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::kCounter, labels).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::kGauge, labels).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               std::vector<double> upper_bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::kHistogram, labels).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(upper_bounds));
  return *slot;
}

void Registry::on_collect(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  for (const auto& hook : hooks_) hook();
  std::string out;
  for (const auto& [name, fam] : families_) {
    static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(fam.help, false), name,
                       kTypeNames[static_cast<int>(fam.type)]);
    for (const auto& [labels, c] : fam.counters) {
      out += fmt::format("{}{} {}\n", name, label_text(labels), c->value());
    }
    for (const auto& [labels, g] : fam.gauges) {
      out += fmt::format("{}{} {}\n", name, label_text(labels), format_value(g->value()));
    }
    for (const auto& [labels, h] : fam.histograms) {
      const auto& bounds = h->upper_bounds();
      for (std::size_t i = 0; i <= bounds.size(); ++i) {
        std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
        out += fmt::format("{}_bucket{} {}\n", name, label_text(labels, "le=\"" + le + "\""),
                           h->cumulative_count(i));
      }
      out += fmt::format("{}_sum{} {}\n", name, label_text(labels), format_value(h->sum()));
      out += fmt::format("{}_count{} {}\n", name, label_text(labels),
                         h->cumulative_count(bounds.size()));
    }
  }
  return out;
}

}  // namespace spofless::obs
