#pragma once

// Human-readable numbers for reports: percentages, availabilities and durations.

#include <string>

namespace spofless::topology {

// 1.05 -> "105%", 0.667 -> "66.7%".
std::string format_percent(double fraction);
// With as many decimals as its nines need: 0.99 -> "99.0%", 0.99994 -> "99.9940%".
std::string format_availability(double availability);
// 31557.6 -> "8h 45m 57s"; at most the two largest units: "3d 15h", "52m 35s".
std::string format_duration(double seconds);

}  // namespace spofless::topology
