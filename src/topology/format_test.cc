#include "topology/format.h"

#include <gtest/gtest.h>

namespace spofless::topology {
namespace {

TEST(Format, Percent) {
  EXPECT_EQ(format_percent(1.05), "105%");
  EXPECT_EQ(format_percent(2.0 / 3.0), "66.7%");
  EXPECT_EQ(format_percent(0.7), "70%");
}

TEST(Format, AvailabilityShowsItsNines) {
  EXPECT_EQ(format_availability(0.99), "99.0%");
  EXPECT_EQ(format_availability(0.999), "99.90%");
  EXPECT_EQ(format_availability(0.99994), "99.9940%");
  EXPECT_EQ(format_availability(1.0), "100%");
}

TEST(Format, DurationKeepsTheTwoLargestUnits) {
  EXPECT_EQ(format_duration(31557.6), "8h 45m");
  EXPECT_EQ(format_duration(86400 * 3 + 3600 * 15 + 7), "3d 15h");
  EXPECT_EQ(format_duration(86400), "1d");
  EXPECT_EQ(format_duration(0.25), "250ms");
}

}  // namespace
}  // namespace spofless::topology
