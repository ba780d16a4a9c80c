// Properties of the analyzer over generated topologies (rapidcheck).

#include <map>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "topology/analyze.h"
#include "topology/availability.h"

namespace spofless::topology {

// How rapidcheck prints a counterexample's enums.
void showValue(Kind k, std::ostream& os) { os << to_string(k); }
void showValue(Mode m, std::ostream& os) { os << to_string(m); }

namespace {

double fraction(int lo_permille, int hi_permille) {
  return *rc::gen::inRange(lo_permille, hi_permille + 1) / 1000.0;
}

// Hosts in at least two zones and two regions (so every domain check is in force),
// components placed on them,
// each depending only on later ones (acyclic). Availabilities above 0.5, as real ones are.
Topology gen_topology(bool perfect_failover) {
  Topology t;
  t.name = "generated";
  int zones = *rc::gen::inRange(2, 5);
  int regions = 2;
  int hosts = *rc::gen::inRange(zones, 10);
  for (int h = 0; h < hosts; ++h) {
    int z = h % zones;
    t.hosts.push_back(Host{"h" + std::to_string(h),
                           "z" + std::to_string(z),
                           "r" + std::to_string(z % regions),
                           "",
                           {}});
  }
  int components = *rc::gen::inRange(1, 6);
  for (int i = 0; i < components; ++i) {
    Component c;
    c.name = "c" + std::to_string(i);
    c.kind = *rc::gen::element(Kind::kLb, Kind::kWeb, Kind::kCache, Kind::kDb);
    c.mode = *rc::gen::element(Mode::kActiveActive, Mode::kActivePassive, Mode::kQuorum);
    c.replicas = static_cast<std::uint32_t>(*rc::gen::inRange(1, 7));
    for (std::uint32_t r = 0; r < c.replicas; ++r) {
      c.placement.push_back("h" + std::to_string(*rc::gen::inRange(0, hosts)));
    }
    c.availability = fraction(900, 999);
    c.failover = perfect_failover ? 1.0 : fraction(0, 1000);
    if (*rc::gen::arbitrary<bool>()) c.load = fraction(50, 950);
    c.tolerate = static_cast<std::uint32_t>(*rc::gen::inRange(0, 3));
    for (int j = i + 1; j < components; ++j) {
      if (*rc::gen::arbitrary<bool>()) c.depends_on.push_back("c" + std::to_string(j));
    }
    t.components.push_back(std::move(c));
  }
  return t;
}

// The worst severity reported for each component ("" for the whole system).
std::map<std::string, Severity> worst_by_component(const Report& r) {
  std::map<std::string, Severity> worst;
  for (const Finding& f : r.findings) {
    auto [it, inserted] = worst.try_emplace(f.component, f.severity);
    if (!inserted) it->second = std::max(it->second, f.severity);
  }
  return worst;
}

// Adds capacity for the same traffic: one replica on a new host in a new zone and region
// (or, for a quorum, enough voters to reach the next odd count).
Topology add_replica_in_new_zone(Topology t, std::size_t index) {
  Component& c = t.components[index];
  std::uint32_t added = c.mode == Mode::kQuorum ? (c.replicas % 2 == 0 ? 1 : 2) : 1;
  double total = c.load.value_or(0) * c.replicas;
  for (std::uint32_t i = 0; i < added; ++i) {
    std::string id = std::to_string(t.hosts.size());
    t.hosts.push_back(Host{"new" + id, "new-zone" + id, "new-region" + id, "", {}});
    c.placement.push_back("new" + id);
  }
  c.replicas += added;
  if (c.load) c.load = total / c.replicas;
  return t;
}

RC_GTEST_PROP(AnalyzeProperty, EveryFindingIsCompleteAndErrorsComeFirst, ()) {
  Topology t = gen_topology(false);
  Report r = analyze(t);
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    RC_ASSERT(!f.code.empty() && !f.finding.empty() && !f.why.empty() && !f.fix.empty());
    RC_ASSERT(f.component.empty() || t.component(f.component) != nullptr);
    if (i > 0) RC_ASSERT(r.findings[i - 1].severity >= f.severity);
  }
  RC_ASSERT(r.end_to_end.has_value());
  RC_ASSERT(*r.end_to_end >= 0.0 && *r.end_to_end <= 1.0);
}

// Adding capacity in fresh failure domains never makes any verdict worse: no component
// gets a more severe finding than it had, and the error count does not grow. (A finding may
// change its kind: a spof becomes "no N+2 yet", a note.)
RC_GTEST_PROP(AnalyzeProperty, AddingAReplicaInANewZoneNeverMakesAVerdictWorse, ()) {
  Topology before = gen_topology(true);
  auto index = *rc::gen::inRange<std::size_t>(0, before.components.size());
  Report old_report = analyze(before);
  Report new_report = analyze(add_replica_in_new_zone(before, index));
  auto old_worst = worst_by_component(old_report);
  for (const auto& [component, severity] : worst_by_component(new_report)) {
    RC_ASSERT(old_worst.count(component) == 1);
    RC_ASSERT(severity <= old_worst[component]);
  }
  RC_ASSERT(count(new_report.findings, Severity::kError) <=
            count(old_report.findings, Severity::kError));
}

RC_GTEST_PROP(AnalyzeProperty, AvailabilityIsMonotoneInReplicaAvailability, ()) {
  Topology t = gen_topology(false);
  auto index = *rc::gen::inRange<std::size_t>(0, t.components.size());
  double before = *analyze(t).end_to_end;
  Component& c = t.components[index];
  c.availability = *c.availability + (1.0 - *c.availability) * fraction(0, 1000);
  RC_ASSERT(*analyze(t).end_to_end >= before - 1e-12);
}

RC_GTEST_PROP(AnalyzeProperty, AvailabilityIsMonotoneInFailoverReliability, ()) {
  Topology t = gen_topology(false);
  auto index = *rc::gen::inRange<std::size_t>(0, t.components.size());
  double before = *analyze(t).end_to_end;
  Component& c = t.components[index];
  c.failover = c.failover + (1.0 - c.failover) * fraction(0, 1000);
  RC_ASSERT(*analyze(t).end_to_end >= before - 1e-12);
}

// The quorum arithmetic against a dumb oracle: count the subsets of failed voters.
RC_GTEST_PROP(AnalyzeProperty, QuorumAvailabilityMatchesEnumeration, ()) {
  Component c;
  c.name = "db";
  c.kind = Kind::kDb;
  c.mode = Mode::kQuorum;
  c.replicas = static_cast<std::uint32_t>(*rc::gen::inRange(1, 8));
  c.availability = fraction(500, 999);
  c.failover = fraction(0, 1000);
  double a = *c.availability;
  double expected = 0;
  for (std::uint32_t up = 0; up < (1u << c.replicas); ++up) {
    int alive = __builtin_popcount(up);
    double p = std::pow(a, alive) * std::pow(1 - a, c.replicas - alive);
    bool leader_up = up & 1u;  // voter 0 leads
    if (alive < static_cast<int>(quorum_size(c.replicas))) continue;
    expected += leader_up ? p : p * c.failover;
  }
  RC_ASSERT(std::abs(component_availability(c) - expected) < 1e-9);
}

}  // namespace
}  // namespace spofless::topology
