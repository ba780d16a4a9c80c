#pragma once

// The closed-loop load: W worker threads, one connection each to one node, each sending one
// request, waiting for its answer, and sending the next, for a fixed time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/db/cluster.h"

namespace spofless::bench {

enum class OpKind { kWrite, kRead };

struct PhaseSpec {
  OpKind kind = OpKind::kWrite;
  std::size_t workers = 1;
  std::chrono::milliseconds duration{5'000};
  // Writes go to "<key_prefix>/<n>", n distinct over the phase; reads read
  // "<key_prefix>/<k>" for k in [0, kReadKeys), which a write phase with the same prefix and
  // ops_per_worker * workers == kReadKeys wrote before.
  std::string key_prefix;
  // A worker stops after this many acknowledged operations even before `duration` ends.
  // Clamped to kMaxOpsPerPhase / workers.
  std::size_t ops_per_worker = SIZE_MAX;
};

struct PhaseResult {
  std::size_t ops = 0;     // acknowledged
  std::size_t errors = 0;  // failed requests and failed connects
  std::string first_error;
  double wall_seconds = 0;                  // from the common start to the last worker's end
  std::vector<std::uint32_t> latencies_us;  // of acknowledged operations, sorted
  double server_cpu_seconds = 0;            // the cluster's processes during the phase
  double client_cpu_seconds = 0;            // this process during the phase

  double ops_per_second() const { return wall_seconds > 0 ? ops / wall_seconds : 0; }
  // The p-th percentile (0 < p <= 100) of latencies_us in milliseconds; 0 without samples.
  double percentile_ms(double p) const;
};

// What the report keeps of a phase: its figures, without the samples.
struct PhaseSummary {
  std::size_t ops = 0;
  std::size_t errors = 0;
  std::string first_error;
  double ops_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double server_cpu_seconds = 0;
  double client_cpu_seconds = 0;
};

PhaseSummary summarize(const PhaseResult& r);

// Runs one phase against `node`. Every worker connects before the clock starts, and stops at
// the end of the duration, after ops_per_worker operations, after kMaxErrorsPerWorker
// failures, or when the bench is interrupted. A failed request drops its connection if the
// transport broke; the worker reconnects on its next turn.
PhaseResult run_phase(const Cluster& cluster, std::size_t node, const PhaseSpec& spec);

// The 100-byte value worker `worker` writes: printable, different per worker.
std::string value_for(std::size_t worker);

}  // namespace spofless::bench
