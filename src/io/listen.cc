#include "io/listen.h"

#include <fmt/format.h>

#include "core/check.h"
#include "io/address.h"

namespace spofless::io {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<tcp::endpoint> listen_on(tcp::acceptor& acceptor, const tcp::endpoint& endpoint,
                                std::string_view what) {
  SPOFLESS_CHECK(!acceptor.is_open(), "an acceptor listens once");
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  tcp::endpoint bound;
  if (!ec) bound = acceptor.local_endpoint(ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return unavailable(
        fmt::format("cannot listen on {} {}: {}", what, to_string(endpoint), ec.message()));
  }
  return bound;
}

}  // namespace spofless::io
