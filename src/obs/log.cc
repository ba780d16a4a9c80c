#include "obs/log.h"

#include <atomic>
#include <memory>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"

namespace spofless::obs {
namespace {

struct Settings {
  LogFormat format = LogFormat::kText;
  LogLevel threshold = LogLevel::kInfo;
  std::string role = "spofless";
};

// Written once by init_logging before any other thread starts; read-only afterwards.
Settings& settings() {
  static Settings s;
  return s;
}

// spdlog gives us a thread-safe, unbuffered stderr sink; the line itself is ours.
spdlog::logger& sink() {
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("spofless",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

// At most kLogFieldMaxBytes, cut on a UTF-8 character boundary.
std::string clip(std::string_view text) {
  if (text.size() <= limits::kLogFieldMaxBytes) return std::string(text);
  std::size_t end = limits::kLogFieldMaxBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

// One line of JSON; invalid UTF-8 becomes U+FFFD instead of an exception.
template <typename Json>
std::string dump_repairing_utf8(const Json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    // Controls, and anything not ASCII: quoting escapes them and repairs bad UTF-8.
    if (c == ' ' || c == '=' || c == '"' || c == '\\' || byte < 0x20 || byte >= 0x7f) {
      return true;
    }
  }
  return false;
}

// logfmt value: bare when safe, otherwise quoted with JSON string escapes.
void append_text_value(std::string& out, const Field& field) {
  std::visit(
      [&out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          std::string clipped = clip(v);
          out += needs_quotes(clipped) ? dump_repairing_utf8(nlohmann::json(clipped)) : clipped;
        } else if constexpr (std::is_same_v<V, bool>) {
          out += v ? "true" : "false";
        } else {
          out += fmt::format("{}", v);
        }
      },
      field.value);
}

std::string format_time(std::chrono::system_clock::time_point at) {
  auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(at);
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(ms);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", secs, static_cast<int>((ms - secs).count()));
}

}  // namespace

Result<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return invalid_argument(fmt::format("log format '{}': expected text or json", text));
}

Result<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return invalid_argument(fmt::format("log level '{}': expected debug, info, warn or error", text));
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

std::string format_event(LogFormat format, std::chrono::system_clock::time_point at, LogLevel level,
                         std::string_view role, std::string_view event, Fields fields) {
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json line;
    line["ts"] = format_time(at);
    line["level"] = to_string(level);
    line["role"] = role;
    line["event"] = event;
    for (const Field& f : fields) {
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
              line[std::string(f.key)] = clip(v);
            } else {
              line[std::string(f.key)] = v;
            }
          },
          f.value);
    }
    return dump_repairing_utf8(line);
  }
  std::string out = fmt::format("{} {} {} {}", format_time(at), to_string(level), role, event);
  for (const Field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_text_value(out, f);
  }
  return out;
}

void init_logging(LogFormat format, LogLevel threshold, std::string_view role) {
  settings() = Settings{format, threshold, std::string(role)};
}

void log(LogLevel level, std::string_view event, Fields fields) {
  const Settings& s = settings();
  if (level < s.threshold) return;
  std::string line =
      format_event(s.format, std::chrono::system_clock::now(), level, s.role, event, fields);
  sink().info("{}", line);
}

}  // namespace spofless::obs
