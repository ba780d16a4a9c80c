#include "roles/common/cli.h"

#include "obs/log.h"

namespace spofless::roles {

void add_log_options(CLI::App& command, LogOptions& options) {
  command.add_option("--log-format", options.format, "Log lines on stderr: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command.add_option("--log-level", options.level, "Lowest level logged: debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
}

Status apply_log_options(const LogOptions& options, std::string_view role) {
  auto format = obs::parse_log_format(options.format);
  if (!format) return format.status();
  auto level = obs::parse_log_level(options.level);
  if (!level) return level.status();
  obs::init_logging(*format, *level, role);
  return Status::ok();
}

std::string_view version() { return SPOFLESS_VERSION; }

}  // namespace spofless::roles
