#pragma once

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record,
// snapshot file and vote file. Hand-written because Debian packages no C++ CRC32C library:
// SSE4.2's crc32 instruction when the CPU has it (8 bytes per instruction), else a table.
//
// Pure functions; any thread.

#include <cstdint>
#include <string_view>

namespace spofless::storage {

// The CRC32C of `bytes` (RFC 3720 B.4: 32 zero bytes -> 0x8A9136AA).
std::uint32_t crc32c(std::string_view bytes);

// The CRC32C of the concatenation A + `bytes`, given `crc` = crc32c(A).
std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view bytes);

// The two implementations crc32c() picks between, for tests that compare them.
std::uint32_t crc32c_extend_software(std::uint32_t crc, std::string_view bytes);
// REQUIRES: crc32c_hardware_available().
std::uint32_t crc32c_extend_hardware(std::uint32_t crc, std::string_view bytes);
bool crc32c_hardware_available();

}  // namespace spofless::storage
