#include "io/signals.h"

#include <csignal>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/check.h"
#include "obs/log.h"

namespace spofless::io {
namespace {

namespace asio = boost::asio;

std::string_view signal_name(int signal_number) {
  switch (signal_number) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "other";
  }
}

}  // namespace

std::string_view to_string(DrainOutcome outcome) {
  switch (outcome) {
    case DrainOutcome::kNone:
      return "none";
    case DrainOutcome::kCompleted:
      return "completed";
    case DrainOutcome::kTimedOut:
      return "timeout";
    case DrainOutcome::kAbandoned:
      return "abandoned";
  }
  return "unknown";
}

class SignalDrain::State : public std::enable_shared_from_this<State> {
 public:
  State(asio::io_context& io, DrainCallback drain, std::chrono::milliseconds drain_timeout)
      : io_(io), drain_(std::move(drain)), drain_timeout_(drain_timeout), signals_(io), timer_(io) {
    boost::system::error_code ec;
    signals_.add(SIGTERM, ec);
    if (!ec) signals_.add(SIGINT, ec);
    SPOFLESS_CHECK(!ec, "SIGTERM and SIGINT can always be caught");
  }

  void wait_for_signal() {
    signals_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& ec, int signal_number) {
          if (!ec) self->on_signal(signal_number);
        });
  }

  // Stops acting on signals and timers; `done` calls after this are ignored.
  void cancel() {
    finished_ = true;
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    timer_.cancel();
  }

  // cancel(), and SIGTERM and SIGINT get their default actions back.
  void release() {
    cancel();
    boost::system::error_code ignored;
    signals_.clear(ignored);
  }

  bool draining() const { return draining_; }
  DrainOutcome outcome() const { return outcome_; }

 private:
  void on_signal(int signal_number) {
    if (finished_) return;
    obs::info("signal.received", {{"signal", signal_name(signal_number)}});
    if (draining_) {
      obs::warn("drain.abandoned", {{"signal", signal_name(signal_number)}});
      finish(DrainOutcome::kAbandoned);
      return;
    }
    draining_ = true;
    wait_for_signal();
    timer_.expires_after(drain_timeout_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      obs::warn("drain.timeout", {{"timeout_ms", self->drain_timeout_.count()}});
      self->finish(DrainOutcome::kTimedOut);
    });
    if (!drain_) {
      finish(DrainOutcome::kCompleted);
      return;
    }
    std::weak_ptr<State> weak = weak_from_this();
    drain_([weak] {
      if (auto self = weak.lock(); self && !self->finished_) {
        self->finish(DrainOutcome::kCompleted);
      }
    });
  }

  void finish(DrainOutcome outcome) {
    outcome_ = outcome;
    cancel();
    io_.stop();
  }

  asio::io_context& io_;
  DrainCallback drain_;
  const std::chrono::milliseconds drain_timeout_;
  asio::signal_set signals_;
  asio::steady_timer timer_;
  bool draining_ = false;
  bool finished_ = false;
  DrainOutcome outcome_ = DrainOutcome::kNone;
};

SignalDrain::SignalDrain(asio::io_context& io, DrainCallback drain,
                         std::chrono::milliseconds drain_timeout)
    : state_(std::make_shared<State>(io, std::move(drain), drain_timeout)) {
  state_->wait_for_signal();
}

SignalDrain::~SignalDrain() { state_->release(); }

bool SignalDrain::draining() const { return state_->draining(); }

DrainOutcome SignalDrain::outcome() const { return state_->outcome(); }

}  // namespace spofless::io
