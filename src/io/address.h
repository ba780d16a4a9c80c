#pragma once

// Parsing of the HOST:PORT addresses that roles listen on (`--admin`, later `--listen`).

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "core/result.h"

namespace spofless::io {

// Parses "HOST:PORT" where HOST is an IPv4 literal or "localhost" (127.0.0.1) and PORT is
// 0..65535; 0 asks the kernel for an ephemeral port. `what` names the flag in error messages:
//   parse_listen_address("127.0.0.1", "admin address")
//   -> invalid_argument "admin address '127.0.0.1': expected HOST:PORT"
// Refuses host names other than localhost (no resolver at start-up) and IPv6.
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(
    std::string_view text, std::string_view what = "listen address");

// "IP:PORT", the form parse_listen_address accepts and logs print.
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace spofless::io
