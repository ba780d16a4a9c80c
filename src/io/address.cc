#include "io/address.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace spofless::io {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<HostPortText> split_host_port(std::string_view text, std::string_view what,
                                     std::uint16_t min_port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid_argument(fmt::format("{} '{}': expected HOST:PORT", what, text));
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.empty()) {
    return invalid_argument(fmt::format("{} '{}': the host before ':' is empty", what, text));
  }
  std::uint32_t port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port < min_port ||
      port > std::numeric_limits<std::uint16_t>::max()) {
    return invalid_argument(
        fmt::format("{} '{}': port '{}' at byte {} is not a number in {}..65535", what, text,
                    port_text, colon + 1, min_port));
  }
  return HostPortText{host, static_cast<std::uint16_t>(port)};
}

Result<tcp::endpoint> parse_listen_address(std::string_view text, std::string_view what) {
  Result<HostPortText> split = split_host_port(text, what, 0);
  if (!split) return split.status();
  const std::string_view host = split->host;

  asio::ip::address_v4 address;
  if (host == "localhost") {
    address = asio::ip::address_v4::loopback();
  } else {
    boost::system::error_code ec;
    address = asio::ip::make_address_v4(std::string(host), ec);
    if (ec) {
      return invalid_argument(fmt::format(
          "{} '{}': host '{}' is not an IPv4 address or 'localhost'", what, text, host));
    }
  }
  return tcp::endpoint(address, split->port);
}

std::string to_string(const tcp::endpoint& endpoint) {
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

}  // namespace spofless::io
