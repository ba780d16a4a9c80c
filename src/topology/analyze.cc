#include "topology/analyze.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "topology/availability.h"
#include "topology/format.h"

namespace spofless::topology {
namespace {

std::string plural(std::uint32_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// Who stops when `c` stops: the components that depend on it, or the clients.
std::string dependents_of(const Topology& t, const Component& c) {
  std::vector<std::string> names;
  for (const Component& other : t.components) {
    if (std::find(other.depends_on.begin(), other.depends_on.end(), c.name) !=
        other.depends_on.end()) {
      names.push_back(other.name);
    }
  }
  if (names.empty()) return "every client request";
  return fmt::format("{} and everything behind {}", fmt::join(names, ", "),
                     names.size() == 1 ? "it" : "them");
}

std::string spof_fix(const Component& c) {
  switch (c.kind) {
    case Kind::kLb:
      return "run a second lb on a floating virtual IP (mode: active-passive, VRRP) on a host "
             "in another zone";
    case Kind::kWeb:
      return "run at least 3 stateless replicas behind the lb, on hosts in different zones";
    case Kind::kCache:
      return "run a ring of 3 cache nodes with consistent hashing, or declare the database as "
             "its fallback";
    case Kind::kDb:
      return "run 3 voters (mode: quorum) in 3 zones, so that a majority survives any one "
             "failure and a replica is promoted automatically";
    case Kind::kExternal:
      return "add a second provider as its fallback, or a degraded mode (queue the work and "
             "settle later) modelled as a fallback component; call it through a circuit "
             "breaker with a timeout";
  }
  return "";
}

void check_single_point(const Topology& t, const Component& c, bool on_path,
                        std::vector<Finding>& out) {
  if (!on_path || c.replicas > 1) return;
  if (c.kind == Kind::kExternal && c.fallback.empty()) {
    out.push_back(
        component_finding(Severity::kError, "spof", c, "external dependency with no fallback",
                          fmt::format("when {} is down or slow, {} fails with it, and its "
                                      "uptime is outside your control",
                                      c.name, dependents_of(t, c)),
                          spof_fix(c)));
  } else if (c.kind != Kind::kExternal && c.fallback.empty()) {
    out.push_back(component_finding(
        Severity::kError, "spof", c, "single point of failure: 1 replica and no fallback",
        fmt::format("while its one replica is down, {} fails", dependents_of(t, c)), spof_fix(c)));
  } else if (c.kind != Kind::kExternal) {
    out.push_back(component_finding(
        Severity::kWarning, "degraded-fallback", c,
        fmt::format("1 replica; when it fails, its traffic falls back to {}", c.fallback),
        fmt::format("every request {} absorbed reaches {} at once (a thundering herd), just "
                    "when nothing is warm",
                    c.name, c.fallback),
        fmt::format("run 3 replicas, and coalesce requests and admit load gradually into {}",
                    c.fallback)));
  }
}

void check_quorum(const Component& c, std::vector<Finding>& out) {
  std::uint32_t n = c.replicas;
  std::uint32_t tolerated = (n - 1) / 2;
  if (n == 2) {
    out.push_back(component_finding(
        Severity::kError, "quorum-size", c, "2 voters tolerate no failure: the majority of 2 is 2",
        "losing either voter stops writes: twice the chance of an outage of one "
        "node, and none of the benefit",
        "run 3 voters (tolerates 1) or 5 (tolerates 2), in different zones"));
  } else if (tolerated < c.tolerate) {
    out.push_back(
        component_finding(Severity::kError, "quorum-size", c,
                          fmt::format("{} voters tolerate {}; tolerate is {}", n,
                                      plural(tolerated, "failure", "failures"), c.tolerate),
                          fmt::format("a quorum of {} needs {} voters up; {} failures stop writes",
                                      n, quorum_size(n), tolerated + 1),
                          fmt::format("run {} voters: n voters tolerate floor((n-1)/2) failures",
                                      2 * c.tolerate + 1)));
  } else if (n % 2 == 0) {
    out.push_back(component_finding(
        Severity::kWarning, "quorum-even", c,
        fmt::format("{} voters tolerate {}, no more than {} would", n,
                    plural(tolerated, "failure", "failures"), n - 1),
        "the extra voter is one more machine that can fail and a larger majority to wait for "
        "on every write, and it survives no more failures",
        fmt::format("run {} or {} voters", n - 1, n + 1)));
  }
}

// Replicas alone (not load) fall short of `tolerate`.
void check_replica_count(const Component& c, std::vector<Finding>& out) {
  if (c.replicas - 1 >= c.tolerate) return;
  out.push_back(component_finding(
      Severity::kError, "tolerance", c,
      fmt::format("{} survive at most {}; tolerate is {}",
                  plural(c.replicas, "replica", "replicas"),
                  plural(c.replicas - 1, "failure", "failures"), c.tolerate),
      fmt::format("{} simultaneous failures leave no replica serving", c.replicas),
      fmt::format("run at least {} replicas in different failure domains", c.tolerate + 1)));
}

// N+M capacity: after `tolerate` failures the survivors carry the whole load.
// Returns true when it reported a violation.
// Every mode can be overloaded now; only active-active redistributes load on a failure.
bool check_capacity(const Component& c, std::vector<Finding>& out) {
  if (!c.load || c.kind == Kind::kExternal) return false;
  double load = *c.load;
  double total = load * c.replicas;
  if (load > 1.0) {
    out.push_back(component_finding(
        Severity::kError, "overloaded", c,
        fmt::format("each {} already runs at {} of capacity",
                    c.mode == Mode::kActiveActive ? "replica" : "active replica",
                    format_percent(load)),
        "it is failing now: latency grows without bound and requests time out",
        c.mode == Mode::kActiveActive
            ? fmt::format("run {} replicas at this total load",
                          static_cast<std::uint32_t>(std::ceil(total + c.tolerate - 1e-9)))
            : std::string("give each replica more capacity, or split the load across "
                          "independent shards")));
    return true;
  }
  if (c.mode != Mode::kActiveActive) return false;  // a standby takes over the same load
  if (c.replicas <= c.tolerate) return false;       // reported by check_replica_count
  std::uint32_t survivors = c.replicas - c.tolerate;
  double after = total / survivors;
  if (after <= 1.0 + 1e-9) return false;
  auto replicas_for = static_cast<std::uint32_t>(std::ceil(total + c.tolerate - 1e-9));
  out.push_back(component_finding(
      Severity::kError, "capacity", c,
      fmt::format("after {}, each of the {} surviving replicas would run at {}",
                  plural(c.tolerate, "failure", "failures"), survivors, format_percent(after)),
      fmt::format("{} replicas at {} carry {} replicas' worth of load; {} cannot, so the "
                  "survivors overload and fail in turn (a cascade): this is not N+{}",
                  c.replicas, format_percent(load), fmt::format("{:.2g}", total), survivors,
                  c.tolerate),
      fmt::format("run {} replicas at this total load, or keep each replica at or below {}",
                  replicas_for, format_percent(static_cast<double>(survivors) / c.replicas))));
  return true;
}

// Planned maintenance takes one replica out; can the rest still survive one failure (N+2)?
void check_maintenance(const Component& c, std::vector<Finding>& out) {
  if (c.kind == Kind::kExternal || c.replicas < 2 || c.tolerate >= 2) return;
  std::uint32_t left = c.replicas - 2;  // one in maintenance, one failed
  bool survives = false;
  std::uint32_t wanted = 0;
  std::string unit = "replicas";
  switch (c.mode) {
    case Mode::kQuorum:
      survives = left >= quorum_size(c.replicas);
      wanted = 5;
      unit = "voters";
      break;
    case Mode::kActivePassive:
      survives = left >= 1;
      wanted = 3;
      break;
    case Mode::kActiveActive: {
      double total = c.load.value_or(0) * c.replicas;
      survives = left >= 1 && (!c.load || total / left <= 1.0 + 1e-9);
      wanted = static_cast<std::uint32_t>(std::max(3.0, std::ceil(total + 2 - 1e-9)));
      break;
    }
  }
  if (survives) return;
  out.push_back(
      component_finding(Severity::kInfo, "maintenance", c,
                        "no N+2: with one replica down for maintenance, one more failure stops it",
                        "planned work (patching, upgrades, a rolling restart) is when a second "
                        "failure most often lands",
                        fmt::format("run {} {} if it must survive maintenance plus a failure, or "
                                    "set tolerate: 2 to make this an error",
                                    wanted, unit)));
}

void check_component(const Topology& t, const Component& c, bool on_path,
                     std::vector<Finding>& out) {
  check_single_point(t, c, on_path, out);
  if (c.kind == Kind::kExternal || c.replicas < 2) {
    check_capacity(c, out);
    return;
  }
  std::size_t before = out.size();
  if (c.mode == Mode::kQuorum) {
    check_quorum(c, out);
  } else {
    check_replica_count(c, out);
  }
  check_capacity(c, out);
  check_component_domains(t, c, out);
  // "No N+2 yet" would read as reassurance next to a worse problem.
  bool worse = std::any_of(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(),
                           [](const Finding& f) { return f.severity >= Severity::kWarning; });
  if (!worse) check_maintenance(c, out);
}

}  // namespace

std::set<std::string> request_path(const Topology& t) {
  std::set<std::string> depended_on;
  for (const Component& c : t.components) {
    depended_on.insert(c.depends_on.begin(), c.depends_on.end());
    if (!c.fallback.empty()) depended_on.insert(c.fallback);
  }
  std::set<std::string> path;
  std::function<void(const Component&)> visit = [&](const Component& c) {
    if (!path.insert(c.name).second) return;
    for (const std::string& dep : c.depends_on) visit(*t.component(dep));
  };
  for (const Component& c : t.components) {
    if (c.request_path && !depended_on.count(c.name)) visit(c);
  }
  return path;
}

Report analyze(const Topology& t) {
  Report report;
  report.system = t.name;
  report.target_availability = t.target_availability;
  std::set<std::string> path = request_path(t);
  if (path.empty()) {
    report.findings.push_back(Finding{
        Severity::kInfo, "empty-request-path", "", "no component is on the request path",
        "every component has request_path: false or is only a fallback, so nothing is judged "
        "as a single point of failure and no end-to-end availability is estimated",
        "mark the components that serve client requests (the default), and list what they "
        "need under depends_on",
        t.where});
  }
  check_system_domains(t, report.findings);
  for (const Component& c : t.components) {
    check_component(t, c, path.count(c.name) > 0, report.findings);
    report.components.push_back(ComponentSummary{c.name, c.kind, c.mode, c.replicas,
                                                 failures_tolerated(c), path.count(c.name) > 0,
                                                 std::nullopt});
  }
  check_availability(t, path, report);
  sort_by_severity(report.findings);
  return report;
}

}  // namespace spofless::topology
