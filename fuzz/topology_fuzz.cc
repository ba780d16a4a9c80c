// Fuzzes the topology and Kubernetes readers and the analyzer behind them: any byte string
// must come back as a Report or an invalid_argument naming a position, never as a crash,
// a hang or an exception; and a Report must satisfy the analyzer's invariants.

#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "topology/document.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto analysis = spofless::topology::analyze_text(text);
  if (!analysis) {
    SPOFLESS_CHECK(analysis.status().code() == spofless::StatusCode::kInvalidArgument,
                   "bad input is invalid_argument");
    SPOFLESS_CHECK(!analysis.status().message().empty(), "an error says what was wrong");
    return 0;
  }
  const auto& report = analysis->report;
  for (std::size_t i = 1; i < report.findings.size(); ++i) {
    SPOFLESS_CHECK(report.findings[i - 1].severity >= report.findings[i].severity,
                   "findings are sorted by severity");
  }
  if (report.end_to_end) {
    SPOFLESS_CHECK(*report.end_to_end >= 0.0 && *report.end_to_end <= 1.0,
                   "availability is a probability");
  }
  return 0;
}
