#pragma once

// The topology of a system: hosts in failure domains, and the components that run on them.
// Parsed from the YAML file that `analyze` judges and `up` / `drill` run (docs/topology.md).
// Plain values: no I/O, safe to copy and to share read-only between threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spofless::topology {

// 1-based position in the source text; 0 when unknown.
struct SourceLocation {
  int line = 0;
  int column = 0;
};

enum class Kind { kLb, kWeb, kCache, kDb, kExternal };
enum class Mode { kActiveActive, kActivePassive, kQuorum };
// Every kind and mode, in the order an error lists them.
inline constexpr Kind kKinds[] = {Kind::kLb, Kind::kWeb, Kind::kCache, Kind::kDb, Kind::kExternal};
inline constexpr Mode kModes[] = {Mode::kActiveActive, Mode::kActivePassive, Mode::kQuorum};
// Failure domains, smallest first.
enum class DomainLevel { kHost, kZone, kRegion };

std::string_view to_string(Kind kind);
std::string_view to_string(Mode mode);
std::string_view to_string(DomainLevel level);
Mode default_mode(Kind kind);

struct Host {
  std::string name;
  std::string zone;
  std::string region;
  std::string address;  // optional IPv4 address that `up` gives this host; "" when unset
  SourceLocation where;

  const std::string& domain(DomainLevel level) const;
};

struct Component {
  std::string name;
  std::string description;
  Kind kind = Kind::kWeb;
  Mode mode = Mode::kActiveActive;
  std::uint32_t replicas = 1;          // voters, for a quorum
  std::vector<std::string> placement;  // host per replica; empty when not placed
  std::optional<double> availability;  // of one replica, in (0, 1]
  double failover = 1.0;               // probability that a needed failover works, [0, 1]
  std::optional<double> load;          // per replica, as a fraction of one replica's capacity
  std::uint32_t tolerate = 1;          // failures it must survive
  std::string fallback;                // component that serves when this one cannot; "" if none
  std::vector<std::string> depends_on;
  bool request_path = true;  // false: never an entry point (batch jobs, tooling)
  SourceLocation where;
};

struct Topology {
  std::string name;
  std::string description;
  std::optional<double> target_availability;  // end-to-end objective, e.g. 0.999
  std::vector<Host> hosts;
  std::vector<Component> components;
  SourceLocation where;

  const Host* host(std::string_view name) const;
  const Component* component(std::string_view name) const;
};

// Replicas needed to carry the current load: ceil(load x replicas), at least 1.
std::uint32_t replicas_needed(const Component& c);

}  // namespace spofless::topology
