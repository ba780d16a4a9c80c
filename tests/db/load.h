#pragma once

// Client threads that load a cluster while a test breaks it. Each thread owns one DbClient
// and calls the test's step function until stop() or its op budget runs out; a step says
// whether its operation was acknowledged, and acknowledgments are the progress a test waits
// for between faults (a condition, not a sleep).
//
// Thread model: constructed, waited on and stopped by the test's thread; `step` runs on the
// load threads, each with its own thread index, and must only touch that thread's state.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "client/db_client.h"
#include "core/status.h"

namespace spofless::db_test {

class LoadThreads {
 public:
  // True when the operation was acknowledged.
  using Step = std::function<bool(std::size_t thread, std::uint64_t op, client::DbClient&)>;
  using OptionsFor = std::function<client::DbClientOptions(std::size_t thread)>;

  // Starts `threads` threads at once. Each stops after `max_ops_per_thread` operations.
  LoadThreads(std::size_t threads, const OptionsFor& options_for, Step step,
              std::uint64_t max_ops_per_thread);
  ~LoadThreads();  // stop()
  LoadThreads(const LoadThreads&) = delete;
  LoadThreads& operator=(const LoadThreads&) = delete;

  std::uint64_t acknowledged() const { return acknowledged_.load(); }
  // Waits until `more` operations beyond those acknowledged now are acknowledged.
  Status wait_for_progress(std::uint64_t more, std::chrono::milliseconds timeout);
  // Asks every thread to finish its current operation, then joins them. Idempotent.
  void stop();

 private:
  void run(std::size_t thread, client::DbClientOptions options);

  Step step_;
  std::uint64_t max_ops_per_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> acknowledged_{0};
  std::mutex mutex_;
  std::condition_variable progressed_;
  std::vector<std::thread> threads_;
};

}  // namespace spofless::db_test
