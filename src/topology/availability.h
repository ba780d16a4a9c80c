#pragma once

// Availability arithmetic: the probability that a component, or a whole request path,
// can serve, given each replica's availability and how reliably failover works.
//
// The seeds' formula for a pair, P(A) + P(not A) x P(failover) x P(B), generalised:
//   active-passive, n replicas:  a + (1-a) f (1 - (1-a)^(n-1))
//   active-active, n replicas, k needed to carry the load: every failure must be detected
//     and routed around (probability f each):  sum over j=k..n of C(n,j) a^j (1-a)^(n-j) f^(n-j)
//   quorum of n voters, majority m: the leader is up with m-1 others, or it is down and an
//     election among at least m others works:
//     a P(Bin(n-1,a) >= m-1) + (1-a) f P(Bin(n-1,a) >= m)
// Replicas are assumed to fail independently; shared failure domains are the analyzer's
// other findings. All functions are pure.

#include <cstdint>

#include "topology/model.h"

namespace spofless::topology {

// P(Binomial(n, p) >= k).
double at_least(std::uint32_t k, std::uint32_t n, double p);

// 0 for a component over capacity (load > 1): it is failing now.
// REQUIRES: c.availability has a value.
double component_availability(const Component& c);

// Failures the component survives, counting capacity: n - k for active-active, n - 1 for
// active-passive, floor((n-1)/2) for a quorum, 0 for an external dependency.
std::uint32_t failures_tolerated(const Component& c);

// Majority of n voters.
inline std::uint32_t quorum_size(std::uint32_t voters) { return voters / 2 + 1; }

// Nines of an availability: 0.999 -> 3.0.
double nines(double availability);
// Expected downtime in a 365.25-day year, in seconds.
double downtime_seconds_per_year(double availability);

}  // namespace spofless::topology
