#pragma once

// Opening a listening TCP socket, done the same way by every server of the project (the admin
// server, the peer transport, the db client server).

#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "core/result.h"

namespace spofless::io {

// Opens `acceptor` for `endpoint` with SO_REUSEADDR (a restarted server binds again while its
// old connections sit in TIME_WAIT), binds and listens. Returns the bound endpoint: the port
// is the kernel's pick when endpoint's port is 0. On failure the acceptor is closed again and
// the error is unavailable, naming `what` (which address it was) and the system's reason:
//   listen_on(a, 127.0.0.1:80, "admin address")
//   -> unavailable "cannot listen on admin address 127.0.0.1:80: Permission denied"
// The caller may retry later or fix the address. REQUIRES: the acceptor is not open.
Result<boost::asio::ip::tcp::endpoint> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                                 const boost::asio::ip::tcp::endpoint& endpoint,
                                                 std::string_view what);

}  // namespace spofless::io
