#pragma once

#include <string_view>

namespace spofless::roles {

// examples/default.yaml as it was when the binary was built.
std::string_view default_topology_yaml();
// How reports name it in place of a file path.
std::string_view default_topology_name();

}  // namespace spofless::roles
