#include "topology/document.h"

#include <fmt/format.h>

#include "topology/kubernetes.h"
#include "topology/parse.h"
#include "topology/yaml_reader.h"

namespace spofless::topology {
namespace {

Result<InputKind> detect(std::string_view yaml_text) {
  try {
    for (const yaml::Document& d : yaml::load_documents(yaml_text)) {
      const YAML::Node& doc = d.root;
      if (!doc.IsMap()) continue;
      if (doc["components"].IsDefined() || doc["hosts"].IsDefined()) return InputKind::kTopology;
      if (doc["apiVersion"].IsDefined() && doc["kind"].IsDefined()) return InputKind::kKubernetes;
    }
  } catch (const yaml::InputError& e) {
    return invalid_argument(e.what());
  }
  return invalid_argument(
      "1:1: not a spofless topology (no 'components') nor Kubernetes manifests (no "
      "'apiVersion' and 'kind'); see docs/topology.md");
}

}  // namespace

Result<Analysis> analyze_text(std::string_view yaml_text) {
  auto kind = detect(yaml_text);
  if (!kind) return kind.status();
  Analysis out;
  out.kind = *kind;
  if (*kind == InputKind::kTopology) {
    auto topology = parse_topology(yaml_text);
    if (!topology) return topology.status();
    out.report = analyze(*topology);
    return out;
  }
  auto manifests = parse_kubernetes(yaml_text);
  if (!manifests) return manifests.status();
  out.report.system = "kubernetes manifests";
  out.report.findings = analyze_kubernetes(*manifests);
  return out;
}

}  // namespace spofless::topology
