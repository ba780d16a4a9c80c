#pragma once

// Strict reading of YAML documents: unknown and duplicate keys are errors, every value is
// type- and range-checked, and every error names the field and its line and column.
// Internal to src/topology: it throws InputError, which parse_*() turn into a Status at
// the module boundary.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "topology/model.h"

namespace spofless::topology::yaml {

// "LINE:COLUMN: what was wrong and what was expected".
class InputError : public std::runtime_error {
 public:
  InputError(SourceLocation where, const std::string& message);
  // The same error in a document that starts `lines` further down its stream.
  InputError shifted(int lines) const;

  SourceLocation where;
  std::string detail;  // the message without its position
};

SourceLocation location_of(const YAML::Node& node);
[[noreturn]] void fail(const YAML::Node& at, const std::string& message);

// One document of a stream. Positions of its nodes count from the document's first line,
// so add first_line to them (see InputError::shifted).
struct Document {
  YAML::Node root;
  int first_line = 0;  // 0-based line of the stream where the document starts
};

// Every document of a stream, at most limits::kKubernetesMaxDocuments, with yaml-cpp's
// syntax errors turned into InputError at their position in the stream.
std::vector<Document> load_documents(std::string_view text);
// The one document of a file (a Null node when there is none); positions need no shift.
YAML::Node load_one(std::string_view text);

// A mapping whose keys must come from a fixed set. `context` names it in errors, e.g.
// "components[2]".
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string context, std::vector<std::string_view> allowed);

  bool has(std::string_view key) const;
  YAML::Node node(std::string_view key) const;  // REQUIRES: has(key)
  const YAML::Node& self() const { return node_; }
  std::string field(std::string_view key) const { return context_ + "." + std::string(key); }

  std::string required_string(std::string_view key) const;
  std::string optional_string(std::string_view key, std::string fallback = {}) const;
  // A DNS-label-like name: [a-z0-9] and '-', starting with a letter or digit.
  std::string required_name(std::string_view key) const;
  // One of `values`, written as to_string() names it; anything else is refused with the
  // list of names.
  template <typename Enum, std::size_t N>
  Enum required_enum(std::string_view key, const Enum (&values)[N]) const {
    std::vector<std::string_view> names;
    for (Enum v : values) names.push_back(to_string(v));
    return values[required_choice(key, names)];
  }
  std::optional<std::uint32_t> optional_count(std::string_view key, std::uint32_t min,
                                              std::uint32_t max) const;
  // A probability or fraction, written as 0.999 or "99.9%", within [min, max].
  std::optional<double> optional_fraction(std::string_view key, double min, double max) const;
  std::optional<bool> optional_bool(std::string_view key) const;
  // A list of names (see required_name); empty when absent.
  std::vector<std::string> name_list(std::string_view key) const;

 private:
  // The index in `choices` of the string under `key`.
  std::size_t required_choice(std::string_view key,
                              const std::vector<std::string_view>& choices) const;

  YAML::Node node_;
  std::string context_;
};

// Checks the name rules of MapReader::required_name on a scalar node.
std::string name_from(const YAML::Node& node, const std::string& field);

}  // namespace spofless::topology::yaml
