// Failure domains: replicas that share a host, zone or region fail together, so that
// domain, not any one replica, is the single point of failure.
// Domains nest (a host is in one zone, a zone in one region), so the smallest shared
// domain that stops a component is the one reported.

#include <map>
#include <set>

#include <fmt/format.h>

#include "topology/analyze.h"
#include "topology/availability.h"
#include "topology/format.h"

namespace spofless::topology {
namespace {

constexpr DomainLevel kLevels[] = {DomainLevel::kHost, DomainLevel::kZone, DomainLevel::kRegion};

std::set<std::string> all_domains(const Topology& t, DomainLevel level) {
  std::set<std::string> out;
  for (const Host& h : t.hosts) out.insert(h.domain(level));
  return out;
}

// Replicas a component must keep to go on serving.
std::uint32_t must_keep(const Component& c) {
  switch (c.mode) {
    case Mode::kQuorum:
      return quorum_size(c.replicas);
    case Mode::kActivePassive:
      return 1;
    case Mode::kActiveActive:
      return replicas_needed(c);
  }
  return 1;
}

struct Loss {
  std::string domain;
  std::uint32_t replicas = 0;  // of the component inside that domain
};

// The domain at `level` that holds the most replicas of `c`.
Loss largest_domain(const Topology& t, const Component& c, DomainLevel level) {
  std::map<std::string, std::uint32_t> held;
  for (const std::string& host : c.placement) ++held[t.host(host)->domain(level)];
  Loss worst;
  for (const auto& [domain, n] : held) {
    if (n > worst.replicas) worst = {domain, n};
  }
  return worst;
}

std::string describe_loss(const Component& c, DomainLevel level, const Loss& loss) {
  std::uint32_t left = c.replicas - loss.replicas;
  std::string_view lvl = to_string(level);
  if (left == 0) return fmt::format("all {} replicas are in {} {}", c.replicas, lvl, loss.domain);
  if (c.mode == Mode::kQuorum) {
    return fmt::format(
        "{} {} holds {} of {} voters; losing it leaves {}, short of the majority "
        "of {}",
        lvl, loss.domain, loss.replicas, c.replicas, left, quorum_size(c.replicas));
  }
  return fmt::format("losing {} {} takes {} of {} replicas; the {} left would run at {}", lvl,
                     loss.domain, loss.replicas, c.replicas, left,
                     format_percent(c.load.value_or(0) * c.replicas / left));
}

void check_domains_of(const Topology& t, const Component& c, std::vector<Finding>& out) {
  for (DomainLevel level : kLevels) {
    Loss loss = largest_domain(t, c, level);
    // A domain holding one replica is one failure: the replica and capacity checks judge it.
    if (loss.replicas < 2 || c.replicas - loss.replicas >= must_keep(c)) continue;
    std::set<std::string> available = all_domains(t, level);
    // One zone or region in the whole file: said once, system-wide. One host is not: a
    // single machine under replicated components is the plainest SPOF there is.
    if (available.size() < 2 && level != DomainLevel::kHost) continue;
    std::string_view lvl = to_string(level);
    std::uint32_t spread = c.mode == Mode::kQuorum ? 3 : 2;
    out.push_back(component_finding(
        level == DomainLevel::kRegion ? Severity::kWarning : Severity::kError, "shared-domain", c,
        fmt::format("{}: {} {} is a single point of failure", describe_loss(c, level, loss), lvl,
                    loss.domain),
        fmt::format("one {} failure (power, network, a bad change rolled out to it) takes them "
                    "down together; redundancy inside one {} is not independent",
                    lvl, lvl),
        fmt::format("place replicas in at least {} different {}s so that losing any one leaves "
                    "enough (this topology has: {})",
                    spread, lvl, fmt::join(available, ", "))));
    return;  // coarser domains contain this one and fail with it
  }
}

}  // namespace

void check_system_domains(const Topology& t, std::vector<Finding>& out) {
  if (t.hosts.empty()) return;
  std::set<std::string> zones = all_domains(t, DomainLevel::kZone);
  std::set<std::string> regions = all_domains(t, DomainLevel::kRegion);
  if (zones.size() == 1) {
    out.push_back(Finding{Severity::kWarning, "single-zone", "",
                          fmt::format("every host is in zone {}", *zones.begin()),
                          "a zone outage stops every component at once",
                          "spread hosts over 3 zones: a quorum needs a majority to survive the "
                          "loss of any one",
                          t.where});
  }
  if (regions.size() == 1) {
    out.push_back(Finding{Severity::kInfo, "single-region", "",
                          fmt::format("every host is in region {}", *regions.begin()),
                          "a region outage stops the service; surviving it is the 2N "
                          "(disaster recovery) design",
                          "if the business must survive a region loss, run a second copy of "
                          "the stack in another region with replication and global routing",
                          t.where});
  }
}

void check_component_domains(const Topology& t, const Component& c, std::vector<Finding>& out) {
  if (c.kind == Kind::kExternal || c.replicas < 2) return;
  if (c.placement.empty()) {
    out.push_back(component_finding(
        Severity::kInfo, "unplaced", c, "replicas have no placement",
        "without knowing which hosts they run on, shared failure domains cannot be judged",
        "list one host per replica under placement"));
    return;
  }
  check_domains_of(t, c, out);
}

}  // namespace spofless::topology
