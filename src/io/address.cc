#include "io/address.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace spofless::io {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<tcp::endpoint> parse_listen_address(std::string_view text, std::string_view what) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid_argument(fmt::format("{} '{}': expected HOST:PORT", what, text));
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.empty()) {
    return invalid_argument(
        fmt::format("{} '{}': expected HOST:PORT, the host is empty", what, text));
  }

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

  std::uint32_t port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end ||
      port > std::numeric_limits<std::uint16_t>::max()) {
    return invalid_argument(
        fmt::format("{} '{}': port '{}' is not a number in 0..65535", what, text, port_text));
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

std::string to_string(const tcp::endpoint& endpoint) {
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

}  // namespace spofless::io
