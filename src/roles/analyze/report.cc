#include "roles/analyze/report.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "topology/availability.h"
#include "topology/format.h"

namespace spofless::roles {
namespace {

using topology::Finding;
using topology::Report;
using topology::Severity;

// Words of `text` in lines of at most `width` columns, the text starting at column
// `indent`; continuation lines are indented by `indent` spaces.
std::string wrap(const std::string& text, std::size_t indent, std::size_t width) {
  std::istringstream words(text);
  std::string out;
  std::string word;
  std::size_t column = indent;
  bool first = true;
  while (words >> word) {
    if (!first && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  return out;
}

std::string summary_line(const AnalyzedInput& input) {
  const auto& f = input.analysis.report.findings;
  return fmt::format("{} ({}): {} errors, {} warnings, {} notes", input.analysis.report.system,
                     input.name, topology::count(f, Severity::kError),
                     topology::count(f, Severity::kWarning), topology::count(f, Severity::kInfo));
}

std::string components_table(const Report& r) {
  if (r.components.empty()) return "";
  std::size_t name_width = 9;
  for (const auto& c : r.components) name_width = std::max(name_width, c.name.size());
  std::string out =
      fmt::format("{:<{}}  {:<8}  {:<14}  {:>8}  {:>9}  {}\n", "COMPONENT", name_width, "KIND",
                  "MODE", "REPLICAS", "TOLERATES", "AVAILABILITY");
  for (const auto& c : r.components) {
    std::string availability =
        c.availability ? topology::format_availability(*c.availability) : "-";
    if (!c.on_request_path) availability += " (off the request path)";
    out += fmt::format("{:<{}}  {:<8}  {:<14}  {:>8}  {:>9}  {}\n", c.name, name_width,
                       topology::to_string(c.kind),
                       c.kind == topology::Kind::kExternal ? "-" : topology::to_string(c.mode),
                       c.replicas, c.tolerates, availability);
  }
  return out;
}

std::string finding_block(const Finding& f, const std::string& source, std::size_t component_width,
                          int width) {
  std::size_t indent = 10 + component_width + 2;
  auto w = static_cast<std::size_t>(width);
  std::string component = f.component.empty() ? "(system)" : f.component;
  std::string out = fmt::format("{:<8}  {:<{}}  {}\n", topology::to_string(f.severity), component,
                                component_width, wrap(f.finding, indent, w));
  std::string pad(indent, ' ');
  out += pad + "why: " + wrap(f.why, indent + 5, w) + "\n";
  out += pad + "fix: " + wrap(f.fix, indent + 5, w) + "\n";
  if (f.where.line > 0)
    out += pad + fmt::format("at:  {}:{}:{}\n", source, f.where.line, f.where.column);
  return out;
}

std::string availability_line(const Report& r) {
  if (!r.availability_unknown_for.empty()) {
    return fmt::format("availability: not estimated (no availability given for {})\n",
                       fmt::join(r.availability_unknown_for, ", "));
  }
  if (!r.end_to_end) return "";
  double a = *r.end_to_end;
  std::string line = fmt::format("availability: {} end to end ({:.2f} nines, {} down a year)",
                                 topology::format_availability(a), topology::nines(a),
                                 topology::format_duration(topology::downtime_seconds_per_year(a)));
  if (r.target_availability) {
    line += fmt::format("; target {} {}", topology::format_availability(*r.target_availability),
                        a >= *r.target_availability ? "met" : "MISSED");
  }
  return line + "\n";
}

template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json availability_json(const Report& r) {
  nlohmann::ordered_json out;
  out["end_to_end"] = or_null(r.end_to_end);
  if (r.end_to_end && *r.end_to_end < 1.0) {
    out["nines"] = topology::nines(*r.end_to_end);
    out["downtime_seconds_per_year"] = topology::downtime_seconds_per_year(*r.end_to_end);
  }
  out["target"] = or_null(r.target_availability);
  out["unknown_for"] = r.availability_unknown_for;
  return out;
}

nlohmann::ordered_json file_json(const AnalyzedInput& input, Severity min_severity) {
  const Report& r = input.analysis.report;
  nlohmann::ordered_json file;
  file["file"] = input.name;
  file["input"] = input.analysis.kind == topology::InputKind::kTopology ? "topology" : "kubernetes";
  file["system"] = r.system;
  file["components"] = nlohmann::ordered_json::array();
  for (const auto& c : r.components) {
    file["components"].push_back({{"name", c.name},
                                  {"kind", topology::to_string(c.kind)},
                                  {"mode", topology::to_string(c.mode)},
                                  {"replicas", c.replicas},
                                  {"tolerates", c.tolerates},
                                  {"on_request_path", c.on_request_path},
                                  {"availability", or_null(c.availability)}});
  }
  file["findings"] = nlohmann::ordered_json::array();
  for (const Finding& f : r.findings) {
    if (f.severity < min_severity) continue;
    file["findings"].push_back({{"severity", topology::to_string(f.severity)},
                                {"code", f.code},
                                {"component", f.component},
                                {"finding", f.finding},
                                {"why", f.why},
                                {"fix", f.fix},
                                {"line", f.where.line},
                                {"column", f.where.column}});
  }
  file["availability"] = availability_json(r);
  return file;
}

}  // namespace

InputError input_error(std::string name, const std::string& message) {
  InputError e{std::move(name), 0, 0, message};
  int line = 0;
  int column = 0;
  const char* p = message.data();
  const char* end = p + message.size();
  auto r1 = std::from_chars(p, end, line);
  if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != ':') return e;
  auto r2 = std::from_chars(r1.ptr + 1, end, column);
  if (r2.ec != std::errc() || end - r2.ptr < 2 || r2.ptr[0] != ':' || r2.ptr[1] != ' ') return e;
  e.line = line;
  e.column = column;
  e.message = std::string(r2.ptr + 2, end);
  return e;
}

std::string render_error(const InputError& e) {
  if (e.line > 0) return fmt::format("{}:{}:{}: error: {}\n", e.name, e.line, e.column, e.message);
  return fmt::format("{}: error: {}\n", e.name, e.message);
}

std::string render_text(const AnalyzedInput& input, Severity min_severity, int width) {
  const Report& r = input.analysis.report;
  std::string out = summary_line(input) + "\n\n";
  std::string components = components_table(r);
  if (!components.empty()) out += components + "\n";
  std::size_t component_width = 9;
  for (const Finding& f : r.findings)
    component_width = std::max(component_width, f.component.size());
  bool any = false;
  for (const Finding& f : r.findings) {
    if (f.severity < min_severity) continue;
    if (!any) {
      out +=
          fmt::format("{:<8}  {:<{}}  {}\n", "SEVERITY", "COMPONENT", component_width, "FINDING");
    }
    any = true;
    out += finding_block(f, input.name, component_width, width);
  }
  if (!any) out += "no findings\n";
  std::string availability = availability_line(r);
  if (!availability.empty()) out += "\n" + availability;
  return out;
}

nlohmann::ordered_json render_json(const std::vector<AnalyzedInput>& inputs,
                                   const std::vector<InputError>& errors, int exit_code,
                                   Severity min_severity) {
  nlohmann::ordered_json out;
  out["files"] = nlohmann::ordered_json::array();
  int totals[3] = {0, 0, 0};  // by Severity
  for (const AnalyzedInput& input : inputs) {
    for (const Finding& f : input.analysis.report.findings) ++totals[static_cast<int>(f.severity)];
    out["files"].push_back(file_json(input, min_severity));
  }
  out["input_errors"] = nlohmann::ordered_json::array();
  for (const InputError& e : errors) {
    out["input_errors"].push_back(
        {{"file", e.name}, {"line", e.line}, {"column", e.column}, {"message", e.message}});
  }
  out["summary"] = {{"errors", totals[2]},
                    {"warnings", totals[1]},
                    {"notes", totals[0]},
                    {"input_errors", errors.size()},
                    {"exit_code", exit_code}};
  return out;
}

}  // namespace spofless::roles
