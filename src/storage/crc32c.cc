#include "storage/crc32c.h"

#include <array>
#include <cstring>

#include "core/check.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace spofless::storage {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // 0x1EDC6F41 bit-reversed

// table[b]: the CRC register after shifting byte b through it (LSB first).
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) != 0 ? kPolynomial : 0);
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

using ExtendFn = std::uint32_t (*)(std::uint32_t, std::string_view);

ExtendFn pick_implementation() {
  return crc32c_hardware_available() ? &crc32c_extend_hardware : &crc32c_extend_software;
}

}  // namespace

// The register is kept inverted between calls (init and final XOR with ~0), so that
// extending by B after A equals the CRC of A + B.
std::uint32_t crc32c_extend_software(std::uint32_t crc, std::string_view bytes) {
  std::uint32_t reg = ~crc;
  for (char c : bytes) {
    reg = kTable[(reg ^ static_cast<std::uint8_t>(c)) & 0xFF] ^ (reg >> 8);
  }
  return ~reg;
}

#if defined(__x86_64__)
bool crc32c_hardware_available() { return __builtin_cpu_supports("sse4.2"); }

__attribute__((target("sse4.2"))) std::uint32_t crc32c_extend_hardware(std::uint32_t crc,
                                                                       std::string_view bytes) {
  SPOFLESS_CHECK(crc32c_hardware_available(), "the CPU has SSE4.2");
  std::uint64_t reg = ~crc;
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left >= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);  // unaligned; x86 is little-endian like the CRC's bit order
    reg = _mm_crc32_u64(reg, word);
    p += 8;
    left -= 8;
  }
  auto reg32 = static_cast<std::uint32_t>(reg);
  for (; left > 0; --left, ++p) reg32 = _mm_crc32_u8(reg32, static_cast<std::uint8_t>(*p));
  return ~reg32;
}
#else
bool crc32c_hardware_available() { return false; }

std::uint32_t crc32c_extend_hardware(std::uint32_t, std::string_view) {
  SPOFLESS_UNREACHABLE("no CRC32C instruction on this architecture");
  return 0;
}
#endif

std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view bytes) {
  static const ExtendFn extend = pick_implementation();
  return extend(crc, bytes);
}

std::uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes); }

}  // namespace spofless::storage
