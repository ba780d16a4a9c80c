#pragma once

// One entry point for `spofless analyze`: a text that is either a spofless topology file
// or Kubernetes manifests, told apart by its top-level fields.

#include <string_view>

#include "core/result.h"
#include "topology/analyze.h"

namespace spofless::topology {

enum class InputKind { kTopology, kKubernetes };

struct Analysis {
  InputKind kind = InputKind::kTopology;
  Report report;
};

// Errors are invalid_argument with "LINE:COLUMN: ..." messages, as parse_topology's.
Result<Analysis> analyze_text(std::string_view yaml_text);

}  // namespace spofless::topology
