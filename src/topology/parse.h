#pragma once

// Reads a topology file (docs/topology.md) into a validated Topology.
//
// Accepts: one YAML document in the schema of docs/topology.md. Refuses, with
// "LINE:COLUMN: field: what was expected" in the Status message: YAML syntax errors,
// unknown or repeated fields, values of the wrong type or out of range, names that refer
// to nothing, placement that disagrees with replicas, and dependency or fallback cycles.

#include <string_view>

#include "core/result.h"
#include "topology/model.h"

namespace spofless::topology {

Result<Topology> parse_topology(std::string_view yaml_text);

}  // namespace spofless::topology
