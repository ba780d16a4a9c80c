#include "topology/kubernetes.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "topology/yaml_reader.h"

namespace spofless::topology {
namespace {

using yaml::fail;

// node[a][b]... without inserting. Missing steps give a valid node of type Undefined
// (yaml-cpp's own "zombie" node throws on every query but IsDefined(), and Node's
// operator= assigns through to the referenced node instead of rebinding).
YAML::Node at(const YAML::Node& node, std::initializer_list<const char*> path) {
  std::vector<YAML::Node> chain{node};  // copies bind; assignment would write through
  for (const char* key : path) {
    const YAML::Node& current = chain.back();
    if (!current.IsDefined() || !current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node child = current[key];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    chain.push_back(child);
  }
  return chain.back();
}

std::string text(const YAML::Node& node, const std::string& field, std::string fallback = {}) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  if (!node.IsScalar()) fail(node, fmt::format("{}: expected a string", field));
  return node.Scalar();
}

LabelSet labels(const YAML::Node& node, const std::string& field) {
  LabelSet out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) fail(node, fmt::format("{}: expected a map of labels", field));
  for (const auto& kv : node) {
    out[text(kv.first, field)] = text(kv.second, field + "." + kv.first.Scalar());
  }
  return out;
}

std::uint32_t count_of(const YAML::Node& node, const std::string& field) {
  std::uint32_t v = 0;
  const std::string& s = node.IsScalar() ? node.Scalar() : "";
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!node.IsScalar() || ec != std::errc() || end != s.data() + s.size()) {
    fail(node, fmt::format("{}: expected a whole number", field));
  }
  return v;
}

std::optional<PodCount> pod_count(const YAML::Node& node, const std::string& field) {
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (node.IsScalar() && !node.Scalar().empty() && node.Scalar().back() == '%') {
    YAML::Node digits(node.Scalar().substr(0, node.Scalar().size() - 1));
    std::uint32_t pct = 0;
    const std::string& s = digits.Scalar();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pct);
    if (ec != std::errc() || end != s.data() + s.size() || pct > 100) {
      fail(node, fmt::format("{}: expected a count or a percentage like \"50%\"", field));
    }
    return PodCount{pct, true};
  }
  return PodCount{count_of(node, field), false};
}

std::string name_of(const YAML::Node& doc, const std::string& kind) {
  std::string name = text(at(doc, {"metadata", "name"}), kind + ".metadata.name");
  if (name.empty()) fail(doc, fmt::format("{}: metadata.name is missing", kind));
  return name;
}

LabelSelector::Requirement read_requirement(const YAML::Node& node, const std::string& field) {
  using Op = LabelSelector::Requirement::Op;
  LabelSelector::Requirement r;
  r.key = text(at(node, {"key"}), field + ".key");
  std::string op = text(at(node, {"operator"}), field + ".operator");
  if (op == "In") {
    r.op = Op::kIn;
  } else if (op == "NotIn") {
    r.op = Op::kNotIn;
  } else if (op == "Exists") {
    r.op = Op::kExists;
  } else if (op == "DoesNotExist") {
    r.op = Op::kDoesNotExist;
  } else {
    fail(node,
         fmt::format("{}.operator: '{}' is not In, NotIn, Exists or DoesNotExist", field, op));
  }
  YAML::Node values = at(node, {"values"});
  for (std::size_t i = 0; values.IsSequence() && i < values.size(); ++i) {
    r.values.push_back(text(values[i], field + ".values"));
  }
  return r;
}

std::optional<LabelSelector> selector(const YAML::Node& node, const std::string& field) {
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsMap()) fail(node, fmt::format("{}: expected a label selector", field));
  LabelSelector s;
  s.match_labels = labels(at(node, {"matchLabels"}), field + ".matchLabels");
  YAML::Node expressions = at(node, {"matchExpressions"});
  if (expressions.IsDefined() && !expressions.IsNull() && !expressions.IsSequence()) {
    fail(expressions, field + ".matchExpressions: expected a list");
  }
  for (std::size_t i = 0; expressions.IsSequence() && i < expressions.size(); ++i) {
    s.match_expressions.push_back(
        read_requirement(expressions[i], fmt::format("{}.matchExpressions[{}]", field, i)));
  }
  return s;
}

// A non-empty list under `required...` or `preferred...`: an empty rule spreads nothing.
bool has_anti_affinity(const YAML::Node& anti) {
  for (const char* key : {"requiredDuringSchedulingIgnoredDuringExecution",
                          "preferredDuringSchedulingIgnoredDuringExecution"}) {
    YAML::Node rules = at(anti, {key});
    if (rules.IsSequence() && rules.size() > 0) return true;
  }
  return false;
}

Workload read_workload(const YAML::Node& doc, const std::string& kind) {
  Workload w;
  w.kind = kind;
  w.name = name_of(doc, kind);
  std::string field = fmt::format("{} {}", kind, w.name);
  w.ns = text(at(doc, {"metadata", "namespace"}), field + " metadata.namespace", "default");
  YAML::Node replicas = at(doc, {"spec", "replicas"});
  if (replicas.IsDefined() && !replicas.IsNull())
    w.replicas = count_of(replicas, field + " spec.replicas");
  YAML::Node pod = at(doc, {"spec", "template"});
  w.pod_labels = labels(at(pod, {"metadata", "labels"}), field + " spec.template.metadata.labels");
  w.pod_anti_affinity = has_anti_affinity(at(pod, {"spec", "affinity", "podAntiAffinity"}));
  YAML::Node spread = at(pod, {"spec", "topologySpreadConstraints"});
  w.topology_spread = spread.IsSequence() && spread.size() > 0;
  YAML::Node containers = at(pod, {"spec", "containers"});
  if (containers.IsDefined() && !containers.IsSequence()) {
    fail(containers, field + " spec.template.spec.containers: expected a list");
  }
  for (std::size_t i = 0; containers.IsSequence() && i < containers.size(); ++i) {
    if (!containers[i]["readinessProbe"].IsDefined()) {
      w.containers_without_readiness.push_back(
          text(containers[i]["name"], field + " container name", fmt::format("#{}", i)));
    }
  }
  w.where = yaml::location_of(doc);
  return w;
}

DisruptionBudget read_budget(const YAML::Node& doc) {
  DisruptionBudget b;
  b.name = name_of(doc, "PodDisruptionBudget");
  std::string field = "PodDisruptionBudget " + b.name;
  b.ns = text(at(doc, {"metadata", "namespace"}), field + " metadata.namespace", "default");
  b.selector = selector(at(doc, {"spec", "selector"}), field + " spec.selector");
  b.min_available = pod_count(at(doc, {"spec", "minAvailable"}), field + " spec.minAvailable");
  b.max_unavailable =
      pod_count(at(doc, {"spec", "maxUnavailable"}), field + " spec.maxUnavailable");
  b.where = yaml::location_of(doc);
  return b;
}

Service read_service(const YAML::Node& doc) {
  Service s;
  s.name = name_of(doc, "Service");
  s.ns = text(at(doc, {"metadata", "namespace"}), "Service " + s.name + " metadata.namespace",
              "default");
  s.selector = labels(at(doc, {"spec", "selector"}), "Service " + s.name + " spec.selector");
  s.where = yaml::location_of(doc);
  return s;
}

void read_object(const YAML::Node& doc, Manifests& out, int depth) {
  if (!doc.IsMap()) fail(doc, "expected a Kubernetes object (a mapping with apiVersion and kind)");
  std::string kind = text(doc["kind"], "kind");
  if (kind == "List" && depth == 0) {
    YAML::Node items = at(doc, {"items"});
    for (std::size_t i = 0; items.IsSequence() && i < items.size(); ++i) {
      read_object(items[i], out, depth + 1);
    }
  } else if (kind == "Deployment" || kind == "StatefulSet") {
    out.workloads.push_back(read_workload(doc, kind));
  } else if (kind == "PodDisruptionBudget") {
    out.budgets.push_back(read_budget(doc));
  } else if (kind == "Service") {
    out.services.push_back(read_service(doc));
  }
}

// Positions of a document's nodes count from its first line; make them the stream's.
template <typename T>
void shift_from(std::vector<T>& items, std::size_t first, int lines) {
  for (std::size_t i = first; i < items.size(); ++i) {
    if (items[i].where.line > 0) items[i].where.line += lines;
  }
}

}  // namespace

std::uint64_t PodCount::of(std::uint64_t pods) const {
  if (!percent) return value;
  return (pods * value + 99) / 100;  // pods < 2^32 and value <= 100: no overflow
}

bool LabelSelector::Requirement::matches(const LabelSet& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  bool listed = has && std::find(values.begin(), values.end(), it->second) != values.end();
  switch (op) {
    case Op::kIn:
      return listed;
    case Op::kNotIn:
      return !listed;
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
  }
  return false;
}

bool LabelSelector::matches(const LabelSet& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return std::all_of(match_expressions.begin(), match_expressions.end(),
                     [&](const Requirement& r) { return r.matches(labels); });
}

Result<Manifests> parse_kubernetes(std::string_view yaml_text) {
  try {
    Manifests out;
    for (const yaml::Document& doc : yaml::load_documents(yaml_text)) {
      if (doc.root.IsNull()) continue;  // an empty document between two '---'
      std::size_t workloads = out.workloads.size();
      std::size_t budgets = out.budgets.size();
      std::size_t services = out.services.size();
      try {
        read_object(doc.root, out, 0);
      } catch (const yaml::InputError& e) {
        throw e.shifted(doc.first_line);
      }
      shift_from(out.workloads, workloads, doc.first_line);
      shift_from(out.budgets, budgets, doc.first_line);
      shift_from(out.services, services, doc.first_line);
    }
    return out;
  } catch (const yaml::InputError& e) {
    return invalid_argument(e.what());
  } catch (const YAML::Exception& e) {
    return invalid_argument(fmt::format("{}:{}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace spofless::topology
