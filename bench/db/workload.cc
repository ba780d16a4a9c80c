#include "bench/db/workload.h"

#include <algorithm>
#include <barrier>
#include <cmath>
#include <thread>

#include <fmt/format.h>
#include <sys/resource.h>

#include "bench/db/bench_limits.h"
#include "bench/db/interrupt.h"
#include "core/check.h"

namespace spofless::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Readers walk the key space with a stride coprime to kReadKeys, each from its own offset, so
// that concurrent readers do not read the same keys in step.
constexpr std::size_t kReadStride = 97;
static_assert(kReadKeys % kReadStride != 0, "the stride visits every key");

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The start and stop times every worker shares, set once all workers are connected.
struct Window {
  Clock::time_point start;
  Clock::time_point deadline;
};

struct WorkerResult {
  std::size_t ops = 0;
  std::size_t errors = 0;
  std::string first_error;
  std::vector<std::uint32_t> latencies_us;
  Clock::time_point end;
};

struct Worker {
  const Cluster& cluster;
  std::size_t node;
  const PhaseSpec& spec;
  std::size_t index;
  std::size_t max_ops;

  void fail(WorkerResult& r, const Status& s) const {
    ++r.errors;
    if (r.first_error.empty()) r.first_error = s.message();
  }

  std::string key(std::size_t i) const {
    if (spec.kind == OpKind::kRead) {
      return fmt::format("{}/{}", spec.key_prefix, (index * kReadStride + i) % kReadKeys);
    }
    return fmt::format("{}/{}", spec.key_prefix, index * max_ops + i);
  }

  // Connects first, waits for every other worker at `ready`, then runs until the window ends.
  template <typename Barrier>
  void run(Barrier& ready, const Window& window, WorkerResult& r) const {
    const milliseconds timeout(kRequestTimeoutMs);
    std::unique_ptr<KvConnection> conn;
    if (auto c = cluster.connect(node, timeout); c.is_ok()) {
      conn = std::move(*c);
    } else {
      fail(r, c.status());
    }
    ready.arrive_and_wait();
    const std::string value = value_for(index);
    r.latencies_us.reserve(std::min<std::size_t>(max_ops, 1 << 16));
    // Bounded by max_ops, the error budget and the deadline.
    for (std::size_t i = 0; r.ops < max_ops && r.errors < kMaxErrorsPerWorker; ++i) {
      if (Clock::now() >= window.deadline || interrupted()) break;
      if (!conn || conn->broken()) {
        auto c = cluster.connect(node, timeout);
        if (!c.is_ok()) {
          fail(r, c.status());
          continue;
        }
        conn = std::move(*c);
      }
      auto t0 = Clock::now();
      Status s = spec.kind == OpKind::kWrite ? conn->put(key(r.ops), value, timeout)
                                             : conn->get(key(i), kValueBytes, timeout);
      auto t1 = Clock::now();
      if (!s.is_ok()) {
        fail(r, s);
        continue;
      }
      ++r.ops;
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
      r.latencies_us.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
    }
    r.end = Clock::now();
  }
};

}  // namespace

double PhaseResult::percentile_ms(double p) const {
  if (latencies_us.empty()) return 0;
  // Nearest rank: the smallest sample with at least p% of the samples at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * latencies_us.size()));
  rank = std::clamp<std::size_t>(rank, 1, latencies_us.size());
  return latencies_us[rank - 1] / 1000.0;
}

PhaseSummary summarize(const PhaseResult& r) {
  return PhaseSummary{.ops = r.ops,
                      .errors = r.errors,
                      .first_error = r.first_error,
                      .ops_per_second = r.ops_per_second(),
                      .p50_ms = r.percentile_ms(50),
                      .p99_ms = r.percentile_ms(99),
                      .server_cpu_seconds = r.server_cpu_seconds,
                      .client_cpu_seconds = r.client_cpu_seconds};
}

std::string value_for(std::size_t worker) {
  std::string value(kValueBytes, ' ');
  for (std::size_t i = 0; i < kValueBytes; ++i) {
    value[i] = static_cast<char>('!' + (worker * 31 + i * 7) % 94);  // printable ASCII
  }
  return value;
}

PhaseResult run_phase(const Cluster& cluster, std::size_t node, const PhaseSpec& spec) {
  SPOFLESS_CHECK(spec.workers >= 1 && spec.workers <= kMaxWorkers, "workers within bounds");
  const std::size_t max_ops = std::min(spec.ops_per_worker, kMaxOpsPerPhase / spec.workers);
  Window window;
  auto start_clock = [&window, &spec]() noexcept {
    window.start = Clock::now();
    window.deadline = window.start + spec.duration;
  };
  std::barrier ready(static_cast<std::ptrdiff_t>(spec.workers), start_clock);
  std::vector<WorkerResult> results(spec.workers);
  double server_cpu_before = cluster.cpu_seconds();
  double client_cpu_before = process_cpu_seconds();
  {
    std::vector<std::jthread> threads;
    threads.reserve(spec.workers);
    for (std::size_t w = 0; w < spec.workers; ++w) {
      threads.emplace_back([&, w]() {
        Worker{cluster, node, spec, w, max_ops}.run(ready, window, results[w]);
      });
    }
  }  // joined
  PhaseResult out;
  out.server_cpu_seconds = cluster.cpu_seconds() - server_cpu_before;
  out.client_cpu_seconds = process_cpu_seconds() - client_cpu_before;
  Clock::time_point end = window.start;
  for (WorkerResult& r : results) {
    out.ops += r.ops;
    out.errors += r.errors;
    if (out.first_error.empty()) out.first_error = std::move(r.first_error);
    out.latencies_us.insert(out.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
    end = std::max(end, r.end);
  }
  out.wall_seconds = std::chrono::duration<double>(end - window.start).count();
  std::sort(out.latencies_us.begin(), out.latencies_us.end());
  return out;
}

}  // namespace spofless::bench
