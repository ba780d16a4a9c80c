// Availability findings: the redundancy paradox, weak failover, and the end-to-end target.

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "topology/analyze.h"
#include "topology/availability.h"
#include "topology/format.h"

namespace spofless::topology {
namespace {

// Availabilities off the request path, memoized per component: a fallback and everything
// it needs that the path does not already count. Components on the path count as up here,
// because the series product over the path already requires them.
class OffPath {
 public:
  OffPath(const Topology& t, const std::set<std::string>& path) : t_(t), path_(path) {}

  // Availability of `c` with its fallback: P + (1 - P) f A_fallback. Unset when an
  // availability is missing.
  std::optional<double> effective(const Component& c) {
    if (!c.availability) return std::nullopt;
    double p = component_availability(c);
    if (c.fallback.empty()) return p;
    std::optional<double> fallback = chain(c.fallback);
    if (!fallback) return std::nullopt;
    return p + (1 - p) * c.failover * *fallback;
  }

 private:
  // `name` and every dependency of it that is off the path, in series. The graph is acyclic
  // (parse.cc refuses cycles) and memoized, so this is linear in the components.
  std::optional<double> chain(const std::string& name) {
    if (path_.count(name)) return 1.0;
    if (auto it = memo_.find(name); it != memo_.end()) return it->second;
    const Component& c = *t_.component(name);
    std::optional<double> a = effective(c);
    for (const std::string& dep : c.depends_on) {
      std::optional<double> d = chain(dep);
      a = a && d ? std::optional<double>(*a * *d) : std::nullopt;
    }
    memo_[name] = a;
    return a;
  }

  const Topology& t_;
  const std::set<std::string>& path_;
  std::map<std::string, std::optional<double>> memo_;
};

void check_paradox(const Component& c, std::vector<Finding>& out) {
  if (!c.availability || c.kind == Kind::kExternal || c.replicas < 2) return;
  double single = *c.availability;
  double actual = component_availability(c);
  Component perfect = c;
  perfect.failover = 1.0;
  double ideal = component_availability(perfect);
  // When even a perfect failover cannot beat one replica, the load needs every replica:
  // that is a capacity problem, which the capacity rules report, not a failover problem.
  if (ideal < single) return;
  if (actual < single) {
    out.push_back(component_finding(
        Severity::kWarning, "availability-paradox", c,
        fmt::format("redundancy lowers availability: {} replicas with a failover that works {} "
                    "of the time give {}, less than one replica's {}",
                    c.replicas, format_percent(c.failover), format_availability(actual),
                    format_availability(single)),
        "every extra replica is one more failure that needs a working failover; a failover "
        "this unreliable turns those failures into outages (the redundancy paradox)",
        "test failover until it works (drills, chaos), and keep the mechanism simple"));
  } else if (actual - single < 0.5 * (ideal - single)) {
    out.push_back(component_finding(
        Severity::kInfo, "failover-weak", c,
        fmt::format("failover that works {} of the time holds it at {}; a reliable one would "
                    "give {}",
                    format_percent(c.failover), format_availability(actual),
                    format_availability(ideal)),
        "most of the downtime left is failed failovers, not failed replicas",
        "drill failover regularly and automate it; spofless drill measures it"));
  }
}

}  // namespace

void check_availability(const Topology& t, const std::set<std::string>& path, Report& report) {
  double product = 1.0;
  std::vector<std::pair<double, const Component*>> weakest;
  OffPath off_path(t, path);
  for (std::size_t i = 0; i < t.components.size(); ++i) {
    const Component& c = t.components[i];
    check_paradox(c, report.findings);
    std::optional<double> a = off_path.effective(c);
    report.components[i].availability = a;
    if (!path.count(c.name)) continue;
    if (!a) {
      report.availability_unknown_for.push_back(c.name);
      continue;
    }
    product *= *a;
    weakest.emplace_back(*a, &c);
  }
  if (!report.availability_unknown_for.empty() || path.empty()) return;
  report.end_to_end = product;
  if (!t.target_availability || product >= *t.target_availability) return;
  std::sort(weakest.begin(), weakest.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> names;
  for (std::size_t i = 0; i < std::min<std::size_t>(2, weakest.size()); ++i) {
    names.push_back(
        fmt::format("{} at {}", weakest[i].second->name, format_availability(weakest[i].first)));
  }
  report.findings.push_back(Finding{
      Severity::kError, "availability-target", "",
      fmt::format("estimated availability {} ({:.2f} nines, {} down a year) misses the target {}",
                  format_availability(product), nines(product),
                  format_duration(downtime_seconds_per_year(product)),
                  format_availability(*t.target_availability)),
      fmt::format("the request path is as available as the product of its parts; the weakest "
                  "are {}",
                  fmt::join(names, ", ")),
      "raise the weakest first: more replicas in independent domains, a fallback, or a "
      "failover that is drilled until it works",
      t.where});
}

}  // namespace spofless::topology
