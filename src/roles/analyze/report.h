#pragma once

// Renders analyzer reports for people (an aligned, wrapped table) and for machines (JSON).
// Pure: strings in, strings out.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topology/document.h"

namespace spofless::roles {

// One input of `spofless analyze`: its name and what came of it.
struct AnalyzedInput {
  std::string name;  // a path, "-" for stdin, or the embedded default's name
  topology::Analysis analysis;
};

// An input that could not be read or parsed.
struct InputError {
  std::string name;
  int line = 0;  // 0 when the error has no position (e.g. the file cannot be opened)
  int column = 0;
  std::string message;
};

// Splits "LINE:COLUMN: message" (the topology parsers' convention) into its parts.
InputError input_error(std::string name, const std::string& status_message);

std::string render_text(const AnalyzedInput& input, topology::Severity min_severity, int width);
std::string render_error(const InputError& error);
// Findings below min_severity are left out of files[].findings; summary counts them all.
nlohmann::ordered_json render_json(const std::vector<AnalyzedInput>& inputs,
                                   const std::vector<InputError>& errors, int exit_code,
                                   topology::Severity min_severity = topology::Severity::kInfo);

}  // namespace spofless::roles
