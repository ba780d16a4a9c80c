#include "topology/availability.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.h"

namespace spofless::topology {
namespace {

// P(Bin(n, a) = j) for j = 0..n, in O(n): each term from the previous one, in logs so that
// large n neither overflows nor underflows to a wrong sum. (std::lgamma would give C(n, j)
// directly, but it writes the global signgam and this library promises re-entrancy.)
std::vector<double> binomial_pmf(std::uint32_t n, double a) {
  std::vector<double> pmf(n + 1, 0.0);
  if (a >= 1.0) {
    pmf[n] = 1.0;
    return pmf;
  }
  if (a <= 0.0) {
    pmf[0] = 1.0;
    return pmf;
  }
  double log_odds = std::log(a) - std::log1p(-a);
  double log_term = n * std::log1p(-a);  // j = 0: (1-a)^n
  for (std::uint32_t j = 0; j <= n; ++j) {
    pmf[j] = std::exp(log_term);
    if (j < n) log_term += std::log(static_cast<double>(n - j)) - std::log(j + 1.0) + log_odds;
  }
  return pmf;
}

double active_active(const Component& c, double a) {
  std::uint32_t n = c.replicas;
  std::uint32_t k = std::min(replicas_needed(c), n);
  std::vector<double> pmf = binomial_pmf(n, a);
  double p = 0;
  for (std::uint32_t j = k; j <= n; ++j) p += pmf[j] * std::pow(c.failover, n - j);
  return p;
}

double active_passive(const Component& c, double a) {
  return a + (1 - a) * c.failover * (1 - std::pow(1 - a, c.replicas - 1.0));
}

double quorum(const Component& c, double a) {
  std::uint32_t n = c.replicas;
  std::uint32_t m = quorum_size(n);
  return a * at_least(m - 1, n - 1, a) + (1 - a) * c.failover * at_least(m, n - 1, a);
}

}  // namespace

double at_least(std::uint32_t k, std::uint32_t n, double p) {
  if (k == 0) return 1.0;
  if (k > n) return 0.0;
  std::vector<double> pmf = binomial_pmf(n, p);
  double sum = 0;
  for (std::uint32_t j = k; j <= n; ++j) sum += pmf[j];
  return std::clamp(sum, 0.0, 1.0);
}

double component_availability(const Component& c) {
  SPOFLESS_CHECK(c.availability.has_value(), "availability of a component without one");
  double a = *c.availability;
  if (c.kind == Kind::kExternal) return a;
  if (c.load && *c.load > 1.0) return 0.0;  // overloaded: failing now, however many are up
  if (c.replicas == 1) return a;
  double p = 0;
  switch (c.mode) {
    case Mode::kActiveActive:
      p = active_active(c, a);
      break;
    case Mode::kActivePassive:
      p = active_passive(c, a);
      break;
    case Mode::kQuorum:
      p = quorum(c, a);
      break;
  }
  return std::clamp(p, 0.0, 1.0);
}

std::uint32_t failures_tolerated(const Component& c) {
  if (c.kind == Kind::kExternal) return 0;
  switch (c.mode) {
    case Mode::kActiveActive:
      return c.replicas - std::min(replicas_needed(c), c.replicas);
    case Mode::kActivePassive:
      return c.replicas - 1;
    case Mode::kQuorum:
      return (c.replicas - 1) / 2;
  }
  return 0;
}

double nines(double availability) {
  if (availability >= 1.0) return INFINITY;
  return -std::log10(1.0 - availability);
}

double downtime_seconds_per_year(double availability) {
  return (1.0 - availability) * 365.25 * 24 * 3600;
}

}  // namespace spofless::topology
