// Fuzzes the client's HOST:PORT parser (client/host_port.h): any text gives an address that
// prints back to itself, or invalid_argument.

#include <cstdint>
#include <string_view>

#include "client/host_port.h"
#include "core/check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto address = spofless::client::parse_host_port(text, "fuzz");
  if (!address) {
    SPOFLESS_CHECK(address.status().code() == spofless::StatusCode::kInvalidArgument,
                   "bad input is invalid_argument");
    return 0;
  }
  SPOFLESS_CHECK(!address->host.empty() && address->port != 0, "a host and a non-zero port");
  auto again = spofless::client::parse_host_port(address->to_string(), "fuzz");
  SPOFLESS_CHECK(again.is_ok() && *again == *address, "an address round-trips");
  return 0;
}
