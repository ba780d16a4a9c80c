// The checks on parsed Kubernetes manifests; see kubernetes.h and docs/analyze.md.

#include <algorithm>

#include <fmt/format.h>

#include "topology/kubernetes.h"

namespace spofless::topology {
namespace {

std::string id_of(const Workload& w) {
  return w.ns == "default" ? fmt::format("{}/{}", w.kind, w.name)
                           : fmt::format("{}/{}/{}", w.ns, w.kind, w.name);
}

Finding about(const Workload& w, Severity severity, std::string code, std::string finding,
              std::string why, std::string fix) {
  return Finding{severity,       std::move(code), id_of(w), std::move(finding),
                 std::move(why), std::move(fix),  w.where};
}

// Pods the budget lets the eviction API take at once; 0 blocks every drain.
std::int64_t disruptions_allowed(const DisruptionBudget& b, std::uint32_t replicas) {
  if (b.max_unavailable) return static_cast<std::int64_t>(b.max_unavailable->of(replicas));
  if (b.min_available) {
    return static_cast<std::int64_t>(replicas) -
           static_cast<std::int64_t>(b.min_available->of(replicas));
  }
  return 1;  // neither set: the API server refuses such a budget; do not judge it here
}

std::string describe_budget(const DisruptionBudget& b) {
  const std::optional<PodCount>& c = b.max_unavailable ? b.max_unavailable : b.min_available;
  return fmt::format("{} {}{}", b.max_unavailable ? "maxUnavailable" : "minAvailable",
                     c ? c->value : 0, c && c->percent ? "%" : "");
}

void check_budgets(const Manifests& m, const Workload& w, std::vector<Finding>& out) {
  bool covered = false;
  for (const DisruptionBudget& b : m.budgets) {
    if (b.ns != w.ns || !b.selector || !b.selector->matches(w.pod_labels)) continue;
    covered = true;
    if (disruptions_allowed(b, w.replicas) > 0) continue;
    Finding f =
        about(w, Severity::kError, "k8s-pdb-blocks-drain",
              fmt::format("PodDisruptionBudget {} ({}) allows no disruption of its {} replicas",
                          b.name, describe_budget(b), w.replicas),
              "no pod may ever be evicted, so every node drain and cluster upgrade hangs until "
              "someone deletes the budget by hand",
              "use maxUnavailable: 1, which keeps all but one replica up and lets drains proceed");
    f.where = b.where;
    out.push_back(std::move(f));
  }
  if (!covered && w.replicas >= 2) {
    out.push_back(
        about(w, Severity::kWarning, "k8s-no-pdb", "no PodDisruptionBudget selects its pods",
              "a node drain or cluster upgrade may evict every replica at once",
              "add a PodDisruptionBudget with maxUnavailable: 1 selecting its pod labels"));
  }
}

void check_workload(const Manifests& m, const Workload& w, std::vector<Finding>& out) {
  if (w.replicas < 2) {
    out.push_back(
        about(w, Severity::kError, "k8s-replicas", fmt::format("runs {} replica", w.replicas),
              "when its pod or node dies, or the pod is evicted by a drain, nothing serves until a "
              "new pod is scheduled and ready",
              "set spec.replicas to 3 (2 at the very least), spread across nodes and zones"));
  }
  check_budgets(m, w, out);
  if (w.replicas >= 2 && !w.pod_anti_affinity && !w.topology_spread) {
    out.push_back(about(
        w, Severity::kWarning, "k8s-no-spread", "no podAntiAffinity or topologySpreadConstraints",
        "the scheduler may put every replica on one node (or in one zone): that node is then "
        "the single point of failure",
        "add topologySpreadConstraints on kubernetes.io/hostname and topology.kubernetes.io/"
        "zone, or a podAntiAffinity on the pod's labels"));
  }
  if (!w.containers_without_readiness.empty()) {
    out.push_back(
        about(w, Severity::kWarning, "k8s-no-readiness",
              fmt::format("container {} has no readinessProbe",
                          fmt::join(w.containers_without_readiness, ", ")),
              "Services send traffic to pods that are not ready yet, and a rollout proceeds past "
              "pods that do not work",
              "add a readinessProbe on the container's /ready endpoint"));
  }
}

}  // namespace

std::vector<Finding> analyze_kubernetes(const Manifests& m) {
  std::vector<Finding> out;
  for (const Workload& w : m.workloads) check_workload(m, w, out);
  for (const Service& s : m.services) {
    if (s.selector.empty()) continue;  // no selector: endpoints are managed by hand
    bool matched = std::any_of(m.workloads.begin(), m.workloads.end(), [&](const Workload& w) {
      return w.ns == s.ns && LabelSelector{s.selector, {}}.matches(w.pod_labels);
    });
    if (matched) continue;
    out.push_back(Finding{Severity::kInfo, "k8s-service-unmatched", "Service/" + s.name,
                          "selects no Deployment or StatefulSet in these files",
                          "if nothing else backs it, the Service has no endpoints and every "
                          "request to it fails",
                          "check its selector against the pod template labels, or analyze the "
                          "files that define its workload together with it",
                          s.where});
  }
  sort_by_severity(out);
  return out;
}

}  // namespace spofless::topology
