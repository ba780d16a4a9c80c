#pragma once

// The address of one `spofless db` node as a client names it: a host (an IPv4 literal or a
// name the resolver knows) and a TCP port.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace spofless::client {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  // "HOST:PORT", the form parse_host_port accepts.
  std::string to_string() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Parses "HOST:PORT" with PORT in 1..65535. `what` names the field in error messages:
//   parse_host_port("db-1", "node 2") -> invalid_argument "node 2 'db-1': expected HOST:PORT"
// The host is not resolved here; connecting resolves it.
Result<HostPort> parse_host_port(std::string_view text, std::string_view what = "address");

}  // namespace spofless::client
