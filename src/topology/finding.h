#pragma once

// What the analyzer reports: one finding per problem, with the reason and the fix.

#include <string>
#include <string_view>
#include <vector>

#include "topology/model.h"

namespace spofless::topology {

enum class Severity { kInfo, kWarning, kError };
std::string_view to_string(Severity severity);

struct Finding {
  Severity severity = Severity::kInfo;
  std::string code;       // stable identifier, e.g. "spof"; see docs/analyze.md
  std::string component;  // "" for findings about the whole system
  std::string finding;    // what is wrong, in one line
  std::string why;        // what it would do to the service
  std::string fix;        // what to change
  SourceLocation where;   // where in the input the problem was declared
};

// A finding about one component, located where the component is declared.
Finding component_finding(Severity severity, std::string code, const Component& c,
                          std::string finding, std::string why, std::string fix);

// Errors first, then warnings, then notes; stable within a severity.
void sort_by_severity(std::vector<Finding>& findings);
int count(const std::vector<Finding>& findings, Severity severity);

}  // namespace spofless::topology
