#pragma once

// Command-line pieces every role shares: logging flags, the version string, and the
// mapping of parse errors to exit codes.

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace spofless::roles {

// Exit codes of every spofless command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;  // the command worked and found a problem
inline constexpr int kExitUsage = 2;     // bad flags or bad input

struct LogOptions {
  std::string format = "text";
  std::string level = "info";
};

// Adds --log-format and --log-level to a role's subcommand.
void add_log_options(CLI::App& command, LogOptions& options);

// Sets up process-wide logging for `role`. Fails with a message naming the bad value.
Status apply_log_options(const LogOptions& options, std::string_view role);

std::string_view version();

}  // namespace spofless::roles
