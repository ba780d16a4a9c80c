#include "topology/format.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "topology/availability.h"

namespace spofless::topology {

std::string format_percent(double fraction) {
  double pct = fraction * 100;
  if (std::abs(pct - std::round(pct)) < 0.05) return fmt::format("{:.0f}%", pct);
  return fmt::format("{:.1f}%", pct);
}

std::string format_availability(double availability) {
  if (availability >= 1.0) return "100%";
  int decimals = std::clamp(static_cast<int>(std::ceil(nines(availability) - 1e-9)) - 1, 1, 7);
  return fmt::format("{:.{}f}%", availability * 100, decimals);
}

std::string format_duration(double seconds) {
  struct Unit {
    const char* name;
    double seconds;
  };
  static constexpr Unit kUnits[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
  if (seconds < 1) return fmt::format("{:.0f}ms", seconds * 1000);
  std::vector<std::string> parts;
  double rest = std::round(seconds);
  for (const Unit& u : kUnits) {
    double n = std::floor(rest / u.seconds);
    if (n >= 1) {
      parts.push_back(fmt::format("{:.0f}{}", n, u.name));
      rest -= n * u.seconds;
    } else if (!parts.empty()) {
      break;  // "1d", not "1d 0h"
    }
    if (parts.size() == 2) break;
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace spofless::topology
