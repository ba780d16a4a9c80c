#include "topology/finding.h"

#include <algorithm>

namespace spofless::topology {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "unknown";
}

Finding component_finding(Severity severity, std::string code, const Component& c,
                          std::string finding, std::string why, std::string fix) {
  return Finding{severity,       std::move(code), c.name, std::move(finding),
                 std::move(why), std::move(fix),  c.where};
}

void sort_by_severity(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
}

int count(const std::vector<Finding>& findings, Severity severity) {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.severity == severity; }));
}

}  // namespace spofless::topology
