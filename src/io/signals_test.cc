#include "io/signals.h"

#include <csignal>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

namespace spofless::io {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Signals are raised on the io_context thread itself: asio's handler only records them, and
// the drain runs once the loop picks them up. A watchdog bounds every run.
class SignalDrainTest : public ::testing::Test {
 protected:
  void run() {
    asio::steady_timer watchdog(io_, milliseconds(30'000));
    watchdog.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      watchdog_fired_ = true;
      io_.stop();
    });
    io_.run();
    ASSERT_FALSE(watchdog_fired_) << "the drain never stopped the io_context";
  }

  void raise_on_io(int signal_number) {
    asio::post(io_, [signal_number] { std::raise(signal_number); });
  }

  asio::io_context io_;
  bool watchdog_fired_ = false;
};

TEST_F(SignalDrainTest, SigtermDrainsThenStopsTheLoop) {
  bool drain_started = false;
  SignalDrain drain(io_, [&](std::function<void()> done) {
    drain_started = true;
    asio::post(io_, done);  // finishes later, as a real drain does
  });
  EXPECT_FALSE(drain.draining());
  raise_on_io(SIGTERM);
  run();
  EXPECT_TRUE(drain_started);
  EXPECT_TRUE(drain.draining());
  EXPECT_EQ(drain.outcome(), DrainOutcome::kCompleted);
}

TEST_F(SignalDrainTest, SigintDrainsToo) {
  SignalDrain drain(io_, [](std::function<void()> done) { done(); });
  raise_on_io(SIGINT);
  run();
  EXPECT_EQ(drain.outcome(), DrainOutcome::kCompleted);
}

TEST_F(SignalDrainTest, WithoutADrainCallbackTheDrainEndsAtOnce) {
  SignalDrain drain(io_, nullptr);
  raise_on_io(SIGTERM);
  run();
  EXPECT_EQ(drain.outcome(), DrainOutcome::kCompleted);
}

TEST_F(SignalDrainTest, DrainTimeoutCutsASlowDrainShort) {
  std::function<void()> late_done;
  SignalDrain drain(
      io_, [&](std::function<void()> done) { late_done = std::move(done); }, milliseconds(1));
  raise_on_io(SIGTERM);
  run();
  EXPECT_EQ(drain.outcome(), DrainOutcome::kTimedOut);
  ASSERT_TRUE(late_done);
  late_done();  // a drain finishing after the timeout changes nothing
  EXPECT_EQ(drain.outcome(), DrainOutcome::kTimedOut);
}

TEST_F(SignalDrainTest, SecondSignalAbandonsTheDrain) {
  int drains = 0;
  SignalDrain drain(io_, [&](std::function<void()>) {
    ++drains;
    raise_on_io(SIGINT);
  });
  raise_on_io(SIGTERM);
  run();
  EXPECT_EQ(drains, 1);
  EXPECT_EQ(drain.outcome(), DrainOutcome::kAbandoned);
}

TEST_F(SignalDrainTest, DoneAfterTheSignalDrainIsGoneDoesNothing) {
  std::function<void()> kept_done;
  {
    SignalDrain drain(
        io_, [&](std::function<void()> done) { kept_done = std::move(done); }, milliseconds(1));
    raise_on_io(SIGTERM);
    run();
  }
  ASSERT_TRUE(kept_done);
  kept_done();
}

TEST(DrainOutcome, NamesAreTheLogValues) {
  EXPECT_EQ(to_string(DrainOutcome::kNone), "none");
  EXPECT_EQ(to_string(DrainOutcome::kCompleted), "completed");
  EXPECT_EQ(to_string(DrainOutcome::kTimedOut), "timeout");
  EXPECT_EQ(to_string(DrainOutcome::kAbandoned), "abandoned");
}

}  // namespace
}  // namespace spofless::io
