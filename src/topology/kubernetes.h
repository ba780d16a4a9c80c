#pragma once

// Kubernetes manifests judged for the same failures as a topology file: workloads that run
// one pod, that have no disruption budget or one that blocks every drain, whose pods may
// share a node, or that receive traffic before they are ready.
//
// Reads Deployment, StatefulSet, PodDisruptionBudget and Service objects from a
// multi-document YAML stream (and from `kind: List`); other kinds are ignored. Only the
// fields these checks need are read; a needed field of the wrong type is an error naming
// its line and column.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "topology/finding.h"

namespace spofless::topology {

using LabelSet = std::map<std::string, std::string>;

// A label selector (matchLabels and matchExpressions); an empty one selects every pod.
struct LabelSelector {
  struct Requirement {
    enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
    std::string key;
    Op op = Op::kExists;
    std::vector<std::string> values;

    bool matches(const LabelSet& labels) const;
  };
  LabelSet match_labels;
  std::vector<Requirement> match_expressions;

  bool matches(const LabelSet& labels) const;
};

struct Workload {
  std::string kind;  // Deployment or StatefulSet
  std::string name;
  std::string ns;
  std::uint32_t replicas = 1;  // Kubernetes' default
  LabelSet pod_labels;
  bool pod_anti_affinity = false;
  bool topology_spread = false;
  std::vector<std::string> containers_without_readiness;
  SourceLocation where;
};

// minAvailable / maxUnavailable: a count, or a percentage of the selected pods.
struct PodCount {
  std::uint32_t value = 0;
  bool percent = false;
  std::uint64_t of(std::uint64_t pods) const;  // rounded up, as the eviction API does
};

struct DisruptionBudget {
  std::string name;
  std::string ns;
  std::optional<LabelSelector> selector;  // absent selects nothing (policy/v1)
  std::optional<PodCount> min_available;
  std::optional<PodCount> max_unavailable;
  SourceLocation where;
};

struct Service {
  std::string name;
  std::string ns;
  LabelSet selector;
  SourceLocation where;
};

struct Manifests {
  std::vector<Workload> workloads;
  std::vector<DisruptionBudget> budgets;
  std::vector<Service> services;
};

Result<Manifests> parse_kubernetes(std::string_view yaml_text);
std::vector<Finding> analyze_kubernetes(const Manifests& manifests);

}  // namespace spofless::topology
