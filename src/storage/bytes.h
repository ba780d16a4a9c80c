#pragma once

// Little-endian fixed-width integers, the byte order of every length, checksum and number
// in the data directory's files, whatever the host's.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"

namespace spofless::storage {

template <typename U>
void put_le(std::string& out, U value) {
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i))));
  }
}

// REQUIRES: `bytes` holds at least sizeof(U) bytes.
template <typename U>
U get_le(std::string_view bytes) {
  SPOFLESS_CHECK(bytes.size() >= sizeof(U), "get_le within the buffer");
  U value = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    value |= static_cast<U>(static_cast<std::uint8_t>(bytes[i])) << (8 * i);
  }
  return value;
}

}  // namespace spofless::storage
