#include "bench/db/failover.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/db/bench_limits.h"
#include "bench/db/interrupt.h"
#include "bench/db/workload.h"

namespace spofless::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Attempt {
  Clock::time_point sent;
  Clock::time_point done;  // acknowledged, or given up on
  bool acked = false;
};

// The writer of one trial.
// Thread model: run() is the writer thread's; wait_*(), mark_dead() and stop() are the main
// thread's and meet the writer under mu_. attempts() and last_error() are read after the writer
// joined.
class FailoverWriter {
 public:
  FailoverWriter(const Cluster& cluster, std::size_t first_node, std::size_t trial,
                 milliseconds attempt_timeout)
      : cluster_(cluster), node_(first_node), trial_(trial), timeout_(attempt_timeout) {}

  void run() {
    const std::string value = value_for(trial_);
    std::unique_ptr<KvConnection> conn;
    milliseconds backoff(kFailoverBackoffMinMs);
    auto failed_attempt = [&](Clock::time_point sent, const Status& why) {
      attempts_.push_back({sent, Clock::now(), false});
      last_error_ = why.message();
      conn.reset();
      node_ = (node_ + 1) % cluster_.size();
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, milliseconds(kFailoverBackoffMaxMs));
    };
    for (std::size_t attempt = 0; attempt < kFailoverMaxAttempts && !stopping(); ++attempt) {
      if (!conn) {
        auto connecting = Clock::now();
        auto c = cluster_.connect(node_, timeout_);
        if (!c.is_ok()) {
          failed_attempt(connecting, c.status());
          continue;
        }
        conn = std::move(*c);
      }
      auto sent = Clock::now();
      Status s = conn->put(fmt::format("failover/{}/{}", trial_, attempt), value, timeout_);
      auto acked = Clock::now();
      if (!s.is_ok()) {
        failed_attempt(sent, s);
        continue;
      }
      backoff = milliseconds(kFailoverBackoffMinMs);
      attempts_.push_back({sent, acked, true});
      std::lock_guard lock(mu_);
      ++acked_;
      if (dead_at_ && sent >= *dead_at_) acked_after_death_ = true;
      cv_.notify_all();
    }
  }

  // True once `count` writes were acknowledged, false at `deadline`.
  bool wait_acks(std::size_t count, Clock::time_point deadline) {
    return wait_until(deadline, [&] { return acked_ >= count; });
  }

  void mark_dead(Clock::time_point at) {
    std::lock_guard lock(mu_);
    dead_at_ = at;
  }

  // True once a write sent after mark_dead() was acknowledged, false at `deadline`.
  bool wait_ack_after_death(Clock::time_point deadline) {
    return wait_until(deadline, [&] { return acked_after_death_; });
  }

  void stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
  }

  const std::vector<Attempt>& attempts() const { return attempts_; }
  const std::string& last_error() const { return last_error_; }

 private:
  // Waits for `done` (called under mu_) until `deadline`, waking now and then to notice an
  // interrupt, which no writer notification announces.
  template <typename Done>
  bool wait_until(Clock::time_point deadline, Done done) {
    constexpr milliseconds kInterruptCheck{100};
    std::unique_lock lock(mu_);
    while (!done()) {
      auto now = Clock::now();
      if (now >= deadline || interrupted()) return false;
      cv_.wait_until(lock, std::min(deadline, now + kInterruptCheck));
    }
    return true;
  }

  bool stopping() {
    std::lock_guard lock(mu_);
    return stop_ || acked_after_death_ || interrupted();
  }

  const Cluster& cluster_;
  std::size_t node_;
  const std::size_t trial_;
  const milliseconds timeout_;
  std::vector<Attempt> attempts_;  // writer thread's until it joins; one per attempt
  std::string last_error_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t acked_ = 0;
  std::optional<Clock::time_point> dead_at_;
  bool acked_after_death_ = false;
  bool stop_ = false;
};

// Fills in the window: last acknowledgement received before `dead_at` to first
// acknowledgement of a write sent after it. A write sent before and acknowledged after is in
// neither set: it may have been the old leader's or the new one's.
Status measure(const FailoverWriter& writer, Clock::time_point dead_at, FailoverTrial& out) {
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::optional<Clock::time_point> last_before;
  std::optional<Clock::time_point> first_after;
  for (const Attempt& a : writer.attempts()) {
    if (a.sent >= dead_at)
      out.longest_attempt_ms = std::max(out.longest_attempt_ms, ms(a.done - a.sent));
    if (!a.acked) {
      out.failed_attempts += a.sent >= dead_at ? 1 : 0;
      continue;
    }
    if (a.done < dead_at) last_before = std::max(last_before.value_or(a.done), a.done);
    if (a.sent >= dead_at) first_after = std::min(first_after.value_or(a.done), a.done);
  }
  if (!last_before || !first_after) {
    return internal_error("no acknowledged write on one side of the crash");
  }
  out.window_ms = ms(*first_after - *last_before);
  out.last_error = writer.last_error();
  return Status::ok();
}

}  // namespace

Result<FailoverTrial> run_failover_trial(Cluster& cluster, std::size_t trial,
                                         milliseconds attempt_timeout) {
  auto leader = cluster.wait_leader(milliseconds(kLeaderWaitMs));
  if (!leader.is_ok()) return leader.status();
  FailoverWriter writer(cluster, *leader, trial, attempt_timeout);
  FailoverTrial out;
  out.killed_node = *leader;
  std::optional<Clock::time_point> dead_at;
  Status failed;
  {
    std::jthread thread([&writer] { writer.run(); });
    if (!writer.wait_acks(kFailoverWarmupAcks, Clock::now() + milliseconds(kLeaderWaitMs))) {
      failed = unavailable(fmt::format("{}: the writer did not get {} writes acknowledged",
                                       cluster.name(), kFailoverWarmupAcks));
    } else {
      auto kill_at = Clock::now();
      cluster.kill_node(*leader);
      dead_at = Clock::now();
      out.kill_ms = std::chrono::duration<double, std::milli>(*dead_at - kill_at).count();
      writer.mark_dead(*dead_at);
      if (!writer.wait_ack_after_death(*dead_at + milliseconds(kFailoverMaxWindowMs))) {
        failed = unavailable(fmt::format("{}: no write acknowledged within {} ms of the kill",
                                         cluster.name(), kFailoverMaxWindowMs));
      }
    }
    writer.stop();
  }  // joined
  if (dead_at) {
    auto restarted = Clock::now();
    Status s = cluster.restart_node(*leader);
    if (s.is_ok()) s = cluster.wait_following(*leader, milliseconds(kLeaderWaitMs));
    if (failed.is_ok()) failed = s;
    if (failed.is_ok()) failed = measure(writer, *dead_at, out);
    if (failed.is_ok()) {
      out.rejoin_ms = std::chrono::duration<double, std::milli>(Clock::now() - restarted).count();
      return out;
    }
  }
  if (interrupted()) return unavailable("interrupted");
  return failed;
}

}  // namespace spofless::bench
