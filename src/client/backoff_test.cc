#include "client/backoff.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace spofless::client {
namespace {

using std::chrono::milliseconds;

// Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015): the wait before
// retry n is uniform in [0, min(cap, base * 2^n)].
TEST(BackoffTest, EachWaitIsWithinTheGrowingCeiling) {
  BackoffPolicy policy;  // 25 ms, capped at 500 ms
  SeededRandom random(1);
  for (std::uint32_t retry = 0; retry < 12; ++retry) {
    long long ceiling = std::min<long long>(500, 25LL << retry);
    for (int draw = 0; draw < 200; ++draw) {
      milliseconds wait = backoff_delay(policy, retry, random);
      EXPECT_GE(wait.count(), 0);
      EXPECT_LE(wait.count(), ceiling) << "retry " << retry;
    }
  }
}

TEST(BackoffTest, JitterSpreadsTheWaitsOverTheWholeRange) {
  BackoffPolicy policy;
  SeededRandom random(2);
  long long low = 1000;
  long long high = -1;
  for (int draw = 0; draw < 1000; ++draw) {
    long long wait = backoff_delay(policy, 10, random).count();
    low = std::min(low, wait);
    high = std::max(high, wait);
  }
  EXPECT_LT(low, 50) << "full jitter reaches near zero";
  EXPECT_GT(high, 450) << "and near the cap";
}

TEST(BackoffTest, HugeRetryCountsSaturateAtTheCap) {
  BackoffPolicy policy;
  SeededRandom random(3);
  for (int draw = 0; draw < 100; ++draw) {
    EXPECT_LE(backoff_delay(policy, UINT32_MAX, random).count(), 500);
  }
  EXPECT_EQ(backoff_delay(BackoffPolicy{milliseconds(0), milliseconds(500)}, UINT32_MAX, random),
            milliseconds(0));
}

TEST(BackoffTest, TheSameSeedGivesTheSameWaits) {
  BackoffPolicy policy;
  SeededRandom a(42);
  SeededRandom b(42);
  for (std::uint32_t retry = 0; retry < 20; ++retry) {
    EXPECT_EQ(backoff_delay(policy, retry, a), backoff_delay(policy, retry, b));
  }
}

}  // namespace
}  // namespace spofless::client
