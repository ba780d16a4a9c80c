#pragma once

// Structured logging: one event per line, on stderr, as logfmt-style text or as JSON.
//
//   obs::info("admin.listening", {{"addr", "127.0.0.1:9100"}});
//   text: 2026-11-22T01:02:03.456Z info analyze admin.listening addr=127.0.0.1:9100
//   json: {"ts":"2026-11-22T01:02:03.456Z","level":"info","role":"analyze",
//          "event":"admin.listening","addr":"127.0.0.1:9100"}
//
// An event name is a dotted noun.verb; fields carry the facts. Thread-safe: any thread
// may log; lines never interleave. stdout stays free for a command's own output.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"

namespace spofless::obs {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

Result<LogFormat> parse_log_format(std::string_view text);
Result<LogLevel> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <std::integral I>
  requires(!std::same_as<I, bool>) Field(std::string_view k, I v)
      : key(k), value(static_cast<std::int64_t>(v)) {}

  std::string_view key;
  std::variant<std::string, std::int64_t, double, bool> value;
};

using Fields = std::initializer_list<Field>;

// Formats one event as a line without its newline. Pure: the caller supplies the time.
std::string format_event(LogFormat format, std::chrono::system_clock::time_point at, LogLevel level,
                         std::string_view role, std::string_view event, Fields fields);

// Sets the process-wide format, threshold and role name. Call once, early in main.
void init_logging(LogFormat format, LogLevel threshold, std::string_view role);

void log(LogLevel level, std::string_view event, Fields fields = {});
inline void debug(std::string_view event, Fields fields = {}) {
  log(LogLevel::kDebug, event, fields);
}
inline void info(std::string_view event, Fields fields = {}) {
  log(LogLevel::kInfo, event, fields);
}
inline void warn(std::string_view event, Fields fields = {}) {
  log(LogLevel::kWarn, event, fields);
}
inline void error(std::string_view event, Fields fields = {}) {
  log(LogLevel::kError, event, fields);
}

}  // namespace spofless::obs
