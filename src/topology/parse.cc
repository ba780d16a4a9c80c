#include "topology/parse.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/limits.h"
#include "topology/yaml_reader.h"

namespace spofless::topology {
namespace {

using yaml::fail;
using yaml::MapReader;

// Surviving t failures takes a quorum of 2t + 1 voters, which must fit the replica limit.
constexpr std::uint32_t kMaxTolerate = (limits::kComponentMaxReplicas - 1) / 2;

struct Defaults {
  std::optional<double> availability;
  double failover = 1.0;
  std::uint32_t tolerate = 1;
};

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t dot = s.find('.', i);
    std::string_view part = s.substr(i, dot == std::string_view::npos ? s.npos : dot - i);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != part.npos ||
        std::stoi(std::string(part)) > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

Defaults read_defaults(const MapReader& top) {
  Defaults d;
  if (!top.has("defaults")) return d;
  MapReader r(top.node("defaults"), "defaults", {"availability", "failover", "tolerate"});
  d.availability = r.optional_fraction("availability", 1e-9, 1.0);
  d.failover = r.optional_fraction("failover", 0.0, 1.0).value_or(d.failover);
  d.tolerate = r.optional_count("tolerate", 0, kMaxTolerate).value_or(1);
  return d;
}

Host read_host(const YAML::Node& node, std::size_t index) {
  MapReader r(node, fmt::format("hosts[{}]", index), {"name", "zone", "region", "address"});
  Host h;
  h.name = r.required_name("name");
  h.zone = r.required_name("zone");
  h.region = r.required_name("region");
  h.address = r.optional_string("address");
  if (!h.address.empty() && !is_ipv4(h.address)) {
    fail(r.node("address"),
         fmt::format("{}: '{}' is not an IPv4 address", r.field("address"), h.address));
  }
  h.where = yaml::location_of(node);
  return h;
}

// Reads replicas and placement, which must agree when both are given.
void read_replicas(const MapReader& r, Component& c) {
  c.placement = r.name_list("placement");
  auto replicas = r.optional_count("replicas", 1, limits::kComponentMaxReplicas);
  if (replicas && !c.placement.empty() && *replicas != c.placement.size()) {
    fail(r.node("placement"),
         fmt::format("{}: lists {} hosts but replicas is {} (give one host per replica)",
                     r.field("placement"), c.placement.size(), *replicas));
  }
  if (c.placement.size() > limits::kComponentMaxReplicas) {
    fail(r.node("placement"), fmt::format("{}: more than {} replicas", r.field("placement"),
                                          limits::kComponentMaxReplicas));
  }
  if (c.kind == Kind::kExternal) {
    if ((replicas && *replicas != 1) || !c.placement.empty()) {
      fail(r.self(), fmt::format("{}: an external dependency has no replicas or placement of "
                                 "ours; describe a second provider as its fallback instead",
                                 r.field("kind")));
    }
    c.replicas = 1;
    return;
  }
  if (!replicas && c.placement.empty()) {
    fail(r.self(), fmt::format("{}: give replicas, placement, or both", r.field("name")));
  }
  c.replicas = replicas ? *replicas : static_cast<std::uint32_t>(c.placement.size());
}

Component read_component(const YAML::Node& node, std::size_t index, const Defaults& defaults) {
  MapReader r(node, fmt::format("components[{}]", index),
              {"name", "description", "kind", "mode", "replicas", "placement", "availability",
               "failover", "load", "tolerate", "fallback", "depends_on", "request_path"});
  Component c;
  c.name = r.required_name("name");
  c.description = r.optional_string("description");
  c.kind = r.required_enum("kind", kKinds);
  c.mode = r.has("mode") ? r.required_enum("mode", kModes) : default_mode(c.kind);
  read_replicas(r, c);
  c.availability = r.optional_fraction("availability", 1e-9, 1.0);
  if (!c.availability) c.availability = defaults.availability;
  c.failover = r.optional_fraction("failover", 0.0, 1.0).value_or(defaults.failover);
  c.load = r.optional_fraction("load", 0.0, 100.0);
  c.tolerate =
      r.optional_count("tolerate", 0, limits::kComponentMaxReplicas).value_or(defaults.tolerate);
  if (r.has("fallback")) c.fallback = yaml::name_from(r.node("fallback"), r.field("fallback"));
  c.depends_on = r.name_list("depends_on");
  c.request_path = r.optional_bool("request_path").value_or(true);
  c.where = yaml::location_of(node);
  return c;
}

template <typename T>
std::vector<T> read_list(const MapReader& top, std::string_view key, std::size_t max,
                         const std::function<T(const YAML::Node&, std::size_t)>& read) {
  std::vector<T> out;
  if (!top.has(key)) return out;
  YAML::Node list = top.node(key);
  if (!list.IsSequence()) fail(list, fmt::format("{}: expected a list", key));
  if (list.size() > max)
    fail(list, fmt::format("{}: {} entries; the limit is {}", key, list.size(), max));
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    out.push_back(read(list[i], i));
    if (!names.insert(out.back().name).second) {
      fail(list[i], fmt::format("{}[{}]: the name '{}' is used twice", key, i, out.back().name));
    }
  }
  return out;
}

// Finds the node of `key` inside component `index`, to point errors at the right line.
YAML::Node component_field(const YAML::Node& components, std::size_t index, const char* key) {
  YAML::Node n = components[index][key];
  return n.IsDefined() ? n : components[index];
}

// Domains must nest: a zone lies in exactly one region.
void check_hosts(const Topology& t, const YAML::Node& hosts) {
  std::map<std::string, std::string> region_of_zone;
  for (std::size_t i = 0; i < t.hosts.size(); ++i) {
    const Host& h = t.hosts[i];
    auto [it, inserted] = region_of_zone.try_emplace(h.zone, h.region);
    if (!inserted && it->second != h.region) {
      fail(hosts[i]["region"],
           fmt::format("hosts[{}].region: zone '{}' is already in region '{}'; a zone lies in "
                       "one region",
                       i, h.zone, it->second));
    }
  }
}

void check_references(const Topology& t, const YAML::Node& components) {
  for (std::size_t i = 0; i < t.components.size(); ++i) {
    const Component& c = t.components[i];
    for (std::size_t p = 0; p < c.placement.size(); ++p) {
      if (!t.host(c.placement[p])) {
        fail(component_field(components, i, "placement")[p],
             fmt::format("components[{}].placement[{}]: no host named '{}' in hosts", i, p,
                         c.placement[p]));
      }
    }
    for (std::size_t d = 0; d < c.depends_on.size(); ++d) {
      const std::string& dep = c.depends_on[d];
      if (!t.component(dep) || dep == c.name) {
        fail(component_field(components, i, "depends_on")[d],
             fmt::format("components[{}].depends_on[{}]: '{}' is {}", i, d, dep,
                         dep == c.name ? "the component itself" : "not a component"));
      }
    }
    if (!c.fallback.empty() && (!t.component(c.fallback) || c.fallback == c.name)) {
      fail(component_field(components, i, "fallback"),
           fmt::format("components[{}].fallback: '{}' is {}", i, c.fallback,
                       c.fallback == c.name ? "the component itself" : "not a component"));
    }
  }
}

// Depth-first search for a cycle through depends_on and fallback edges.
void check_acyclic(const Topology& t, const YAML::Node& components) {
  enum class Mark { kNew, kActive, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> trail;
  std::function<void(const Component&, std::size_t)> visit = [&](const Component& c,
                                                                 std::size_t index) {
    marks[c.name] = Mark::kActive;
    trail.push_back(c.name);
    std::vector<std::string> next = c.depends_on;
    if (!c.fallback.empty()) next.push_back(c.fallback);
    for (const std::string& n : next) {
      if (marks[n] == Mark::kActive) {  // the cycle is the trail from n's first visit
        auto start = std::find(trail.begin(), trail.end(), n);
        std::vector<std::string> cycle(start, trail.end());
        fail(components[index],
             fmt::format("components: '{}' depends on itself (through depends_on or fallback): "
                         "{} -> {}",
                         n, fmt::join(cycle, " -> "), n));
      }
      if (marks[n] == Mark::kNew) {
        const Component* dep = t.component(n);
        visit(*dep, static_cast<std::size_t>(dep - t.components.data()));
      }
    }
    trail.pop_back();
    marks[c.name] = Mark::kDone;
  };
  for (std::size_t i = 0; i < t.components.size(); ++i) {
    if (marks[t.components[i].name] == Mark::kNew) visit(t.components[i], i);
  }
}

Topology read_topology(const YAML::Node& root) {
  MapReader top(
      root, "topology",
      {"version", "name", "description", "target_availability", "defaults", "hosts", "components"});
  if (top.optional_count("version", 1, 1000).value_or(1) != 1) {
    fail(top.node("version"), "topology.version: this spofless reads version 1 files");
  }
  Topology t;
  t.name = top.required_name("name");
  t.description = top.optional_string("description");
  t.target_availability = top.optional_fraction("target_availability", 1e-9, 1.0);
  t.where = yaml::location_of(root);
  Defaults defaults = read_defaults(top);
  t.hosts = read_list<Host>(top, "hosts", limits::kTopologyMaxHosts, read_host);
  t.components = read_list<Component>(
      top, "components", limits::kTopologyMaxComponents,
      [&](const YAML::Node& n, std::size_t i) { return read_component(n, i, defaults); });
  if (t.components.empty()) fail(root, "topology: 'components' must list at least one component");
  check_hosts(t, top.node("hosts"));
  check_references(t, top.node("components"));
  check_acyclic(t, top.node("components"));
  return t;
}

}  // namespace

Result<Topology> parse_topology(std::string_view yaml_text) {
  try {
    YAML::Node root = yaml::load_one(yaml_text);
    if (!root.IsDefined() || root.IsNull()) {
      return invalid_argument(
          "1:1: no topology found: the input is empty or holds no YAML document (see "
          "docs/topology.md)");
    }
    return read_topology(root);
  } catch (const yaml::InputError& e) {
    return invalid_argument(e.what());
  } catch (const YAML::Exception& e) {
    return invalid_argument(fmt::format("{}:{}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace spofless::topology
