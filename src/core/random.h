#pragma once

// The randomness port: pure logic draws from a Random it is given, never from a global
// generator, so that a seed replays a run exactly.

#include <cstdint>

#include "core/check.h"

namespace spofless {

class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t next_u64() = 0;

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    SPOFLESS_CHECK(lo <= hi, "uniform() needs lo <= hi");
    std::uint64_t span = hi - lo + 1;
    if (span == 0) return next_u64();  // the whole 64-bit range
    // Rejection sampling: no modulo bias.
    std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    std::uint64_t x = next_u64();
    while (x >= limit) x = next_u64();
    return lo + x % span;
  }
};

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for timeouts and
// simulated faults. Not for secrets.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() override {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace spofless
