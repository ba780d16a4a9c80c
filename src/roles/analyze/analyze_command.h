#pragma once

// `spofless analyze [FILE...]`: judges topology files or Kubernetes manifests and prints
// what would stop the service. See docs/analyze.md.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "roles/common/cli.h"

namespace spofless::roles {

class AnalyzeCommand {
 public:
  // Declares the subcommand and its flags on `app`.
  explicit AnalyzeCommand(CLI::App& app);

  bool selected() const { return command_->parsed(); }
  // Runs after parsing; returns the exit code: 0 no error found, 1 errors found (or
  // warnings with --fail-on warning), 2 bad input.
  int run();

 private:
  CLI::App* command_;
  std::vector<std::string> files_;
  bool json_ = false;
  std::string min_severity_ = "info";
  std::string fail_on_ = "error";
  int width_ = 100;
  LogOptions log_;
};

}  // namespace spofless::roles
