#pragma once

// Parsing of the HOST:PORT addresses that roles listen on (`--admin`, `--listen`, `--peers`),
// and the HOST:PORT split that the db client's addresses share with them.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "core/result.h"

namespace spofless::io {

// The two halves of "HOST:PORT" text. `host` views the text that was split.
struct HostPortText {
  std::string_view host;
  std::uint16_t port = 0;
};

// Splits "HOST:PORT" at its last ':' into a non-empty HOST, not looked at further, and a
// decimal PORT in min_port..65535. Errors are invalid_argument naming `what`:
//   "<what> '<text>': expected HOST:PORT"
//   "<what> '<text>': the host before ':' is empty"
//   "<what> '<text>': port '<port>' at byte <offset> is not a number in <min_port>..65535"
Result<HostPortText> split_host_port(std::string_view text, std::string_view what,
                                     std::uint16_t min_port);

// Parses "HOST:PORT" where HOST is an IPv4 literal or "localhost" (127.0.0.1) and PORT is
// 0..65535; 0 asks the kernel for an ephemeral port. `what` names the flag in error messages
// (those of split_host_port, and one for a host that is not an address):
//   parse_listen_address("127.0.0.1", "admin address")
//   -> invalid_argument "admin address '127.0.0.1': expected HOST:PORT"
// Refuses host names other than localhost (no resolver at start-up) and IPv6.
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(
    std::string_view text, std::string_view what = "listen address");

// "IP:PORT", the form parse_listen_address accepts and logs print.
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace spofless::io
