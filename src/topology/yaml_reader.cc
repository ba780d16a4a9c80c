#include "topology/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "core/limits.h"

namespace spofless::topology::yaml {
namespace {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    default:
      return "an undefined value";
  }
}

std::optional<double> parse_double(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string format_number(double v) { return fmt::format("{:g}", v); }

struct Piece {
  std::string_view text;
  int first_line = 0;
};

// A column-0 document marker: "---" or "..." alone or followed by a space.
bool is_marker(std::string_view line, std::string_view marker) {
  return line.substr(0, 3) == marker && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' ||
                                         line[3] == '\r' || line[3] == '\n');
}

// Splits a stream into its documents at column-0 "---" (which starts the next document)
// and "..." (which ends the current one). yaml-cpp 0.7's LoadAll can loop forever on
// malformed streams (found by fuzz/topology_fuzz on ",--\n---\n"); loading one document
// at a time bounds the work by the number of markers.
std::vector<Piece> split_documents(std::string_view text) {
  std::vector<Piece> pieces;
  std::size_t start = 0;
  int start_line = 0;
  int line_number = 0;
  for (std::size_t pos = 0; pos < text.size(); ++line_number) {
    std::size_t eol = text.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, next - pos);
    if (is_marker(line, "---") && pos > start) {
      pieces.push_back({text.substr(start, pos - start), start_line});
      start = pos;
      start_line = line_number;
    } else if (is_marker(line, "...")) {
      pieces.push_back({text.substr(start, next - start), start_line});
      start = next;
      start_line = line_number + 1;
    }
    pos = next;
  }
  if (start < text.size() || pieces.empty()) {
    pieces.push_back({text.substr(start), start_line});
  }
  return pieces;
}

YAML::Node load_piece(const Piece& piece) {
  try {
    return YAML::Load(std::string(piece.text));
  } catch (const YAML::Exception& e) {
    SourceLocation at = e.mark.is_null()
                            ? SourceLocation{}
                            : SourceLocation{e.mark.line + 1 + piece.first_line, e.mark.column + 1};
    throw InputError(at, fmt::format("YAML syntax: {}", e.msg));
  }
}

}  // namespace

InputError::InputError(SourceLocation at, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}: {}", at.line, at.column, message)),
      where(at),
      detail(message) {}

InputError InputError::shifted(int lines) const {
  return InputError({where.line == 0 ? 0 : where.line + lines, where.column}, detail);
}

SourceLocation location_of(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  YAML::Mark m = node.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

void fail(const YAML::Node& at, const std::string& message) {
  throw InputError(location_of(at), message);
}

std::vector<Document> load_documents(std::string_view text) {
  if (text.size() > limits::kTopologyFileMaxBytes) {
    throw InputError({1, 1}, fmt::format("input is {} bytes; the limit is {} bytes", text.size(),
                                         limits::kTopologyFileMaxBytes));
  }
  std::vector<Piece> pieces = split_documents(text);
  if (pieces.size() > limits::kKubernetesMaxDocuments) {
    throw InputError({1, 1}, fmt::format("{} YAML documents; the limit is {}", pieces.size(),
                                         limits::kKubernetesMaxDocuments));
  }
  std::vector<Document> docs;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    YAML::Node root = load_piece(pieces[i]);
    // Comments before the first "---" are not a document of their own.
    if (i == 0 && pieces.size() > 1 && root.IsNull()) continue;
    docs.push_back(Document{root, pieces[i].first_line});
  }
  return docs;
}

YAML::Node load_one(std::string_view text) {
  std::vector<Document> docs = load_documents(text);
  std::vector<Document> present;
  for (const Document& d : docs) {
    if (!d.root.IsNull()) present.push_back(d);
  }
  if (present.size() > 1) {
    throw InputError({present[1].first_line + 1, 1},
                     "expected one YAML document, found a second one (remove the '---')");
  }
  if (present.empty()) return YAML::Node();
  if (present[0].first_line == 0) return present[0].root;
  // Load it again with its leading lines blanked, so that its nodes know their true line.
  std::string padded(text);
  std::size_t start = 0;
  for (int line = 0; line < present[0].first_line; ++line) start = padded.find('\n', start) + 1;
  for (std::size_t i = 0; i < start; ++i) {
    if (padded[i] != '\n') padded[i] = ' ';
  }
  return load_piece(Piece{padded, 0});
}

MapReader::MapReader(const YAML::Node& node, std::string context,
                     std::vector<std::string_view> allowed)
    : node_(node), context_(std::move(context)) {
  if (!node.IsMap())
    fail(node, fmt::format("{}: expected a mapping, got {}", context_, describe(node)));
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) fail(kv.first, fmt::format("{}: keys must be plain words", context_));
    const std::string& key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      fail(kv.first, fmt::format("{}: unknown field '{}' (expected one of: {})", context_, key,
                                 fmt::join(allowed, ", ")));
    }
    if (!seen.insert(key).second) {
      fail(kv.first, fmt::format("{}: field '{}' appears twice", context_, key));
    }
  }
}

bool MapReader::has(std::string_view key) const { return node_[std::string(key)].IsDefined(); }

YAML::Node MapReader::node(std::string_view key) const { return node_[std::string(key)]; }

std::string MapReader::required_string(std::string_view key) const {
  if (!has(key)) fail(node_, fmt::format("{}: missing required field '{}'", context_, key));
  return optional_string(key);
}

std::string MapReader::optional_string(std::string_view key, std::string fallback) const {
  if (!has(key)) return fallback;
  YAML::Node n = node(key);
  if (!n.IsScalar()) fail(n, fmt::format("{}: expected a string, got {}", field(key), describe(n)));
  return n.Scalar();
}

std::size_t MapReader::required_choice(std::string_view key,
                                       const std::vector<std::string_view>& choices) const {
  std::string value = required_string(key);
  auto it = std::find(choices.begin(), choices.end(), value);
  if (it == choices.end()) {
    fail(node(key), fmt::format("{}: unknown {} '{}' (expected one of: {})", field(key), key, value,
                                fmt::join(choices, ", ")));
  }
  return static_cast<std::size_t>(it - choices.begin());
}

std::string name_from(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar())
    fail(node, fmt::format("{}: expected a name, got {}", where, describe(node)));
  const std::string& name = node.Scalar();
  bool ok = !name.empty() && name.size() <= limits::kNameMaxBytes && name.front() != '-' &&
            name.back() != '-' && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
  if (!ok) {
    fail(node, fmt::format("{}: '{}' is not a valid name (expected 1 to {} of a-z, 0-9 and '-', "
                           "not starting or ending with '-')",
                           where, name, limits::kNameMaxBytes));
  }
  return name;
}

std::string MapReader::required_name(std::string_view key) const {
  if (!has(key)) fail(node_, fmt::format("{}: missing required field '{}'", context_, key));
  return name_from(node(key), field(key));
}

std::optional<std::uint32_t> MapReader::optional_count(std::string_view key, std::uint32_t min,
                                                       std::uint32_t max) const {
  if (!has(key)) return std::nullopt;
  YAML::Node n = node(key);
  std::uint32_t v = 0;
  bool ok = false;
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    ok = ec == std::errc() && end == s.data() + s.size() && v >= min && v <= max;
  }
  if (!ok) {
    fail(n, fmt::format("{}: expected a whole number from {} to {}, got {}", field(key), min, max,
                        describe(n)));
  }
  return v;
}

std::optional<double> MapReader::optional_fraction(std::string_view key, double min,
                                                   double max) const {
  if (!has(key)) return std::nullopt;
  YAML::Node n = node(key);
  std::optional<double> v;
  if (n.IsScalar()) {
    std::string_view s = n.Scalar();
    if (!s.empty() && s.back() == '%') {
      v = parse_double(s.substr(0, s.size() - 1));
      if (v) *v /= 100.0;
    } else {
      v = parse_double(s);
    }
  }
  if (!v || !(*v >= min && *v <= max)) {
    fail(n, fmt::format("{}: expected a fraction from {} to {} (like 0.999 or \"99.9%\"), got {}",
                        field(key), format_number(min), format_number(max), describe(n)));
  }
  return v;
}

std::optional<bool> MapReader::optional_bool(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  YAML::Node n = node(key);
  if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
    return n.Scalar() == "true";
  }
  fail(n, fmt::format("{}: expected true or false, got {}", field(key), describe(n)));
}

std::vector<std::string> MapReader::name_list(std::string_view key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  YAML::Node n = node(key);
  if (!n.IsSequence()) fail(n, fmt::format("{}: expected a list, got {}", field(key), describe(n)));
  for (std::size_t i = 0; i < n.size(); ++i) {
    out.push_back(name_from(n[i], fmt::format("{}[{}]", field(key), i)));
  }
  return out;
}

}  // namespace spofless::topology::yaml
