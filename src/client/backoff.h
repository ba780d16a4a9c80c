#pragma once

// Exponential backoff with full jitter: before retry n (0-based) the client waits a uniform
// random time in [0, min(cap, base * 2^n)]. Full jitter spreads clients that failed together
// (every client of a leader that just died) so that they do not return together.
// Pure: the randomness is an argument.

#include <chrono>
#include <cstdint>

#include "core/limits.h"
#include "core/random.h"

namespace spofless::client {

struct BackoffPolicy {
  std::chrono::milliseconds base{limits::kDbClientBackoffBaseMs};
  std::chrono::milliseconds cap{limits::kDbClientBackoffCapMs};
};

// The wait before retry `retry` (0 for the first retry). Never above policy.cap; `retry` may
// be any value (the exponent saturates).
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, std::uint32_t retry,
                                        Random& random);

}  // namespace spofless::client
