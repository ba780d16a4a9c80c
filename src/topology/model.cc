#include "topology/model.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace spofless::topology {

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::kLb:
      return "lb";
    case Kind::kWeb:
      return "web";
    case Kind::kCache:
      return "cache";
    case Kind::kDb:
      return "db";
    case Kind::kExternal:
      return "external";
  }
  return "unknown";
}

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::kActiveActive:
      return "active-active";
    case Mode::kActivePassive:
      return "active-passive";
    case Mode::kQuorum:
      return "quorum";
  }
  return "unknown";
}

std::string_view to_string(DomainLevel level) {
  switch (level) {
    case DomainLevel::kHost:
      return "host";
    case DomainLevel::kZone:
      return "zone";
    case DomainLevel::kRegion:
      return "region";
  }
  return "unknown";
}

Mode default_mode(Kind kind) {
  switch (kind) {
    case Kind::kLb:
      return Mode::kActivePassive;  // a pair on a floating VIP
    case Kind::kWeb:
      return Mode::kActiveActive;
    case Kind::kCache:
      return Mode::kActiveActive;
    case Kind::kDb:
      return Mode::kQuorum;
    case Kind::kExternal:
      return Mode::kActivePassive;
  }
  return Mode::kActiveActive;
}

const std::string& Host::domain(DomainLevel level) const {
  switch (level) {
    case DomainLevel::kHost:
      return name;
    case DomainLevel::kZone:
      return zone;
    case DomainLevel::kRegion:
      return region;
  }
  SPOFLESS_UNREACHABLE("unknown domain level");
  return name;
}

const Host* Topology::host(std::string_view host_name) const {
  auto it =
      std::find_if(hosts.begin(), hosts.end(), [&](const Host& h) { return h.name == host_name; });
  return it == hosts.end() ? nullptr : &*it;
}

const Component* Topology::component(std::string_view component_name) const {
  auto it = std::find_if(components.begin(), components.end(),
                         [&](const Component& c) { return c.name == component_name; });
  return it == components.end() ? nullptr : &*it;
}

std::uint32_t replicas_needed(const Component& c) {
  if (!c.load) return 1;
  // The epsilon keeps 3 x 0.333... from rounding up to 2.
  double needed = std::ceil(*c.load * c.replicas - 1e-9);
  return static_cast<std::uint32_t>(std::max(1.0, needed));
}

}  // namespace spofless::topology
