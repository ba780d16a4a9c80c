#pragma once

// Invariant checks that stay on in every build. A failed check is a programmer error:
// the process prints where and why, then aborts. Environment errors (bad input, a lost
// peer, a full disk) are never checked this way; they are returned as Status.

#include <cstdio>
#include <cstdlib>

#define SPOFLESS_CHECK(cond, why)                                                             \
  do {                                                                                        \
    if (!(cond)) [[unlikely]] {                                                               \
      std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, why); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

#define SPOFLESS_UNREACHABLE(why) SPOFLESS_CHECK(false, why)
