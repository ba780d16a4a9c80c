#include "roles/analyze/analyze_command.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "core/limits.h"
#include "obs/log.h"
#include "roles/analyze/report.h"
#include "roles/common/embedded.h"

namespace spofless::roles {
namespace {

using topology::Severity;

constexpr const char* kDescription =
    "Judge a topology file (docs/topology.md) or Kubernetes manifests for what would stop the\n"
    "service: single points of failure, replicas sharing a host, zone or region, quorum\n"
    "sizing, N+M capacity after failures, and estimated availability.\n"
    "With no FILE, judges the built-in default stack (examples/default.yaml).\n"
    "Exit status: 0 no error found, 1 errors found, 2 bad input (the file, line and column\n"
    "are printed).";

constexpr const char* kExamples =
    "\nExamples:\n"
    "  spofless analyze                          # the default stack\n"
    "  spofless analyze examples/*.yaml          # every example, with its verdict\n"
    "  spofless analyze --json my.yaml | jq .summary\n"
    "  kubectl get deploy,sts,pdb,svc -o yaml | spofless analyze -\n";

Severity parse_severity(const std::string& text) {
  if (text == "error") return Severity::kError;
  if (text == "warning") return Severity::kWarning;
  return Severity::kInfo;
}

// Reads a file, or stdin for "-", refusing inputs over the size limit.
Result<std::string> read_input(const std::string& name) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (name != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(name, ec)) return invalid_argument("is a directory");
    file.open(name, std::ios::binary);
    if (!file)
      return not_found(fmt::format("cannot open: {}",
                                   std::error_code(errno, std::generic_category()).message()));
    in = &file;
  }
  std::string text;
  char buffer[64 * 1024];
  while (in->read(buffer, sizeof buffer) || in->gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in->gcount()));
    if (text.size() > limits::kTopologyFileMaxBytes) {
      return invalid_argument(
          fmt::format("larger than the {}-byte limit", limits::kTopologyFileMaxBytes));
    }
  }
  if (in->bad()) return unavailable("read failed");
  return text;
}

}  // namespace

AnalyzeCommand::AnalyzeCommand(CLI::App& app)
    : command_(app.add_subcommand("analyze", "Find single points of failure in a topology")) {
  command_->description(kDescription);
  command_->footer(kExamples);
  command_->add_option("FILE", files_, "Topology files or Kubernetes manifests; - reads stdin");
  command_->add_flag("--json", json_, "Print one JSON document instead of tables");
  command_->add_option("--min-severity", min_severity_, "Hide findings below: info, warning, error")
      ->check(CLI::IsMember({"info", "warning", "error"}))
      ->capture_default_str();
  command_->add_option("--fail-on", fail_on_, "Exit 1 on findings of this severity or worse")
      ->check(CLI::IsMember({"warning", "error"}))
      ->capture_default_str();
  command_->add_option("--width", width_, "Wrap the table at this many columns")
      ->check(CLI::Range(60, 400))
      ->capture_default_str();
  add_log_options(*command_, log_);
}

int AnalyzeCommand::run() {
  if (Status s = apply_log_options(log_, "analyze"); !s.is_ok()) {
    std::cerr << "spofless analyze: " << s.message() << "\n";
    return kExitUsage;
  }
  std::vector<AnalyzedInput> analyzed;
  std::vector<InputError> errors;
  auto judge = [&](std::string name, std::string_view text) {
    auto analysis = topology::analyze_text(text);
    if (!analysis) {
      errors.push_back(input_error(std::move(name), analysis.status().message()));
      return;
    }
    analyzed.push_back(AnalyzedInput{std::move(name), std::move(analysis).value()});
  };
  if (files_.empty()) judge(std::string(default_topology_name()), default_topology_yaml());
  for (const std::string& file : files_) {
    auto text = read_input(file);
    if (!text) {
      errors.push_back(InputError{file, 0, 0, text.status().message()});
      continue;
    }
    judge(file, *text);
  }

  Severity fail_on = parse_severity(fail_on_);
  Severity min_severity = parse_severity(min_severity_);
  bool failed = false;
  for (const AnalyzedInput& input : analyzed) {
    for (const auto& f : input.analysis.report.findings) failed = failed || f.severity >= fail_on;
  }
  int exit_code = !errors.empty() ? kExitUsage : failed ? kExitFindings : kExitOk;

  if (json_) {
    std::cout << render_json(analyzed, errors, exit_code, min_severity).dump(2) << "\n";
  } else {
    for (std::size_t i = 0; i < analyzed.size(); ++i) {
      std::cout << (i > 0 ? "\n" : "") << render_text(analyzed[i], min_severity, width_);
    }
  }
  for (const InputError& e : errors) std::cerr << render_error(e);
  obs::debug(
      "analyze.finished",
      {{"inputs", analyzed.size()}, {"input_errors", errors.size()}, {"exit_code", exit_code}});
  if (!json_ && analyzed.size() + errors.size() > 1) {
    std::cout << fmt::format("\nverdict: exit {} ({} inputs judged, {} unreadable)\n", exit_code,
                             analyzed.size(), errors.size());
  }
  return exit_code;
}

}  // namespace spofless::roles
