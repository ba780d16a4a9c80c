#pragma once

// Orderly shutdown on SIGTERM and SIGINT.
//
// The first of either signal logs `signal.received signal=SIGTERM` and starts the drain: the
// drain callback begins the role's drain (stop taking work, finish what is in flight) and
// calls `done` once when it is finished. The io_context is then stopped, so that io.run()
// returns and main can return 0. The drain is bounded: after the drain timeout it is cut
// short (`drain.timeout`), and a second signal during the drain cuts it short at once
// (`drain.abandoned`), so that an impatient operator's second Ctrl-C always works.
//
// Exit code: every one of these ends is a stop the operator asked for, so the caller exits 0
// after each; how the drain ended is in the log and in outcome(). A process that must report
// an unclean drain to its supervisor can map outcome() to a code of its own.

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "core/limits.h"

namespace spofless::io {

enum class DrainOutcome {
  kNone,       // no signal yet
  kCompleted,  // the drain called done
  kTimedOut,   // the drain timeout passed first
  kAbandoned,  // a second signal arrived first
};

std::string_view to_string(DrainOutcome outcome);

// Thread model: single-threaded. Belongs to the thread that runs `io`; callbacks run on that
// thread. `io` must outlive the SignalDrain.
// From construction to destruction, SIGTERM and SIGINT are caught for this process (their
// default action is restored on destruction); they are acted on while `io` runs.
class SignalDrain {
 public:
  // Called once, on the io_context thread, at the first signal: starts the role's drain and
  // calls `done` on that thread when it is finished, possibly before returning. Calls of
  // `done` after the drain was cut short, or after the SignalDrain is gone, do nothing.
  using DrainCallback = std::function<void(std::function<void()> done)>;

  // An unset `drain` finishes the drain at once.
  SignalDrain(
      boost::asio::io_context& io, DrainCallback drain,
      std::chrono::milliseconds drain_timeout = std::chrono::milliseconds(limits::kDrainTimeoutMs));
  ~SignalDrain();

  SignalDrain(const SignalDrain&) = delete;
  SignalDrain& operator=(const SignalDrain&) = delete;

  // True from the first signal on.
  bool draining() const;
  DrainOutcome outcome() const;

 private:
  class State;
  std::shared_ptr<State> state_;  // shared with pending waits and with `done`
};

}  // namespace spofless::io
