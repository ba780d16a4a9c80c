#include "db/load.h"

#include <fmt/format.h>

namespace spofless::db_test {

LoadThreads::LoadThreads(std::size_t threads, const OptionsFor& options_for, Step step,
                         std::uint64_t max_ops_per_thread)
    : step_(std::move(step)), max_ops_per_thread_(max_ops_per_thread) {
  for (std::size_t t = 0; t < threads; ++t) {
    threads_.emplace_back([this, t, options = options_for(t)] { run(t, options); });
  }
}

LoadThreads::~LoadThreads() { stop(); }

void LoadThreads::run(std::size_t thread, client::DbClientOptions options) {
  client::DbClient client(std::move(options));
  for (std::uint64_t op = 0; op < max_ops_per_thread_ && !stopping_.load(); ++op) {
    if (!step_(thread, op, client)) continue;
    {
      std::lock_guard lock(mutex_);
      ++acknowledged_;
    }
    progressed_.notify_all();
  }
}

Status LoadThreads::wait_for_progress(std::uint64_t more, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::uint64_t target = acknowledged_.load() + more;
  bool reached =
      progressed_.wait_for(lock, timeout, [&] { return acknowledged_.load() >= target; });
  if (reached) return Status::ok();
  return Status(StatusCode::kDeadlineExceeded,
                fmt::format("the load acknowledged {} of {} more operations within {} ms",
                            more - (target - acknowledged_.load()), more, timeout.count()));
}

void LoadThreads::stop() {
  stopping_.store(true);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace spofless::db_test
