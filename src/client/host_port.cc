#include "client/host_port.h"

#include <fmt/format.h>

#include "io/address.h"

namespace spofless::client {

std::string HostPort::to_string() const { return fmt::format("{}:{}", host, port); }

Result<HostPort> parse_host_port(std::string_view text, std::string_view what) {
  Result<io::HostPortText> split = io::split_host_port(text, what, 1);
  if (!split) return split.status();
  return HostPort{std::string(split->host), split->port};
}

}  // namespace spofless::client
