#include "storage/crc32c.h"

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace spofless::storage {
namespace {

std::string bytes_from(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

struct Vector {
  const char* name;
  std::string bytes;
  std::uint32_t crc;
};

// RFC 3720 appendix B.4 "CRC Examples", and the customary check value of "123456789".
std::vector<Vector> rfc3720_vectors() {
  std::string ascending;
  std::string descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  std::string read_pdu =
      bytes_from({0x01, 0xc0, 0, 0, 0, 0, 0,    0, 0,    0, 0, 0,    0, 0, 0, 0,
                  0x14, 0,    0, 0, 0, 0, 0x04, 0, 0,    0, 0, 0x14, 0, 0, 0, 0x18,
                  0x28, 0,    0, 0, 0, 0, 0,    0, 0x02, 0, 0, 0,    0, 0, 0, 0});
  return {
      {"32 bytes of zeros", std::string(32, '\0'), 0x8A9136AA},
      {"32 bytes of ones", std::string(32, '\xff'), 0x62A8AB43},
      {"32 incrementing bytes", ascending, 0x46DD794E},
      {"32 decrementing bytes", descending, 0x113FDB5C},
      {"an iSCSI read (10) command PDU", read_pdu, 0xD9963A56},
      {"123456789", "123456789", 0xE3069283},
      {"nothing", "", 0},
  };
}

TEST(Crc32c, SoftwareMatchesRfc3720Vectors) {
  for (const Vector& v : rfc3720_vectors()) {
    EXPECT_EQ(crc32c_extend_software(0, v.bytes), v.crc) << v.name;
  }
}

TEST(Crc32c, HardwareMatchesRfc3720Vectors) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  for (const Vector& v : rfc3720_vectors()) {
    EXPECT_EQ(crc32c_extend_hardware(0, v.bytes), v.crc) << v.name;
  }
}

TEST(Crc32c, DispatchMatchesRfc3720Vectors) {
  for (const Vector& v : rfc3720_vectors()) EXPECT_EQ(crc32c(v.bytes), v.crc) << v.name;
}

TEST(Crc32c, ExtendingEqualsTheCrcOfTheConcatenation) {
  std::string all = "the quick brown fox jumps over the lazy dog";
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    std::string_view whole = all;
    EXPECT_EQ(crc32c_extend(crc32c(whole.substr(0, cut)), whole.substr(cut)), crc32c(all))
        << "cut at " << cut;
  }
}

// Every length from 0 to 300 at every alignment 0..7 covers the hardware path's 8-byte
// words and its byte tail.
TEST(Crc32c, HardwareAndSoftwareAgreeOnRandomBytes) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  std::mt19937_64 rng(20240601);
  std::string buffer(320, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t length = 0; length <= 300; ++length) {
      std::string_view bytes(buffer.data() + align, length);
      std::uint32_t seed = static_cast<std::uint32_t>(rng());
      ASSERT_EQ(crc32c_extend_hardware(seed, bytes), crc32c_extend_software(seed, bytes))
          << "align " << align << " length " << length;
    }
  }
}

}  // namespace
}  // namespace spofless::storage
