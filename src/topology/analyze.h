#pragma once

// The SPOF analyzer: judges a Topology and reports what would stop the service.
// Pure: no I/O. Rules, codes and severities are listed in docs/analyze.md.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "topology/finding.h"
#include "topology/model.h"

namespace spofless::topology {

struct ComponentSummary {
  std::string name;
  Kind kind = Kind::kWeb;
  Mode mode = Mode::kActiveActive;
  std::uint32_t replicas = 0;
  std::uint32_t tolerates = 0;  // failures survived, counting capacity
  bool on_request_path = false;
  std::optional<double> availability;  // including its fallback; unset when unknown
};

struct Report {
  std::string system;
  std::vector<ComponentSummary> components;
  std::vector<Finding> findings;     // sorted by severity, errors first
  std::optional<double> end_to_end;  // series product over the request path; unset if it is empty
  std::vector<std::string> availability_unknown_for;  // path components with no estimate
  std::optional<double> target_availability;
};

Report analyze(const Topology& topology);

// The components a client request can pass through: every entry point (a component that
// no other depends on, that is no one's fallback, and whose request_path is not false)
// and everything it depends on, transitively. Fallback-only components are not on it.
std::set<std::string> request_path(const Topology& topology);

// The rule families analyze() runs, each in its own file.
// Failure domains (domains.cc): the whole system in one zone or region, and a component
// whose replicas share a host, zone or region (or that has no placement to judge).
void check_system_domains(const Topology& topology, std::vector<Finding>& out);
void check_component_domains(const Topology& topology, const Component& component,
                             std::vector<Finding>& out);
// Per-component and end-to-end availability, the redundancy paradox and the target
// (availability_check.cc). Fills report.components[i].availability and report.end_to_end.
void check_availability(const Topology& topology, const std::set<std::string>& path,
                        Report& report);

}  // namespace spofless::topology
