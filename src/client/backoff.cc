#include "client/backoff.h"

#include <algorithm>

namespace spofless::client {

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, std::uint32_t retry,
                                        Random& random) {
  SPOFLESS_CHECK(policy.base.count() >= 0 && policy.cap.count() >= 0, "non-negative backoff");
  // base * 2^retry, saturating at cap: the loop doubles a non-zero value below cap, so it runs
  // fewer than 64 times whatever `retry` is.
  std::uint64_t ceiling = static_cast<std::uint64_t>(policy.base.count());
  std::uint64_t cap = static_cast<std::uint64_t>(policy.cap.count());
  for (std::uint32_t i = 0; i < retry && ceiling != 0 && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  return std::chrono::milliseconds(random.uniform(0, ceiling));
}

}  // namespace spofless::client
