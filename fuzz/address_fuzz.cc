// Fuzzes the HOST:PORT parser behind --admin (and later --listen, --peers): any text must
// give an endpoint that prints back to a parsable address, or invalid_argument.

#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "io/address.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto endpoint = spofless::io::parse_listen_address(text, "fuzz");
  if (!endpoint) {
    SPOFLESS_CHECK(endpoint.status().code() == spofless::StatusCode::kInvalidArgument,
                   "bad input is invalid_argument");
    return 0;
  }
  auto again = spofless::io::parse_listen_address(spofless::io::to_string(*endpoint), "fuzz");
  SPOFLESS_CHECK(again.is_ok() && *again == *endpoint, "an endpoint round-trips");
  return 0;
}
