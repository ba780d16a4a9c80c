#include "client/host_port.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace spofless::client {

std::string HostPort::to_string() const { return fmt::format("{}:{}", host, port); }

Result<HostPort> parse_host_port(std::string_view text, std::string_view what) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid_argument(fmt::format("{} '{}': expected HOST:PORT", what, text));
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.empty()) {
    return invalid_argument(fmt::format("{} '{}': the host before ':' is empty", what, text));
  }
  std::uint32_t port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port == 0 ||
      port > std::numeric_limits<std::uint16_t>::max()) {
    return invalid_argument(fmt::format("{} '{}': port '{}' at byte {} is not a number in 1..65535",
                                        what, text, port_text, colon + 1));
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace spofless::client
