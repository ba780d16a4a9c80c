#pragma once

// The figures of one run, side by side, as a plain-text table on stdout.

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "bench/db/disk_probe.h"
#include "bench/db/failover.h"
#include "bench/db/workload.h"

namespace spofless::bench {

// What one system measured. A phase that did not run is missing: fewer rounds than asked,
// fewer failovers than trials.
struct SideReport {
  std::string name;      // "etcd", "spofless"
  std::string settings;  // Cluster::settings()
  bool enabled = false;  // not excluded by --only
  // writes[i]: the rounds of the write phase with RunShape::writer_counts[i] writers.
  std::vector<std::vector<PhaseSummary>> writes;
  std::vector<PhaseSummary> reads;  // one per round
  std::vector<FailoverTrial> failovers;
};

// How the run was shaped, for the report's header and notes.
struct RunShape {
  std::vector<std::size_t> writer_counts;
  std::size_t readers = 0;
  double seconds = 0;
  std::size_t rounds = 0;  // each phase's figures are the round with the median rate
  std::size_t failover_trials = 0;
  std::size_t failover_attempt_ms = 0;
  std::string data_dir;  // where both clusters kept their data
  std::optional<DiskProbe> disk_before;
  std::optional<DiskProbe> disk_after;
};

void print_report(std::FILE* out, const RunShape& shape, const SideReport& etcd,
                  const SideReport& spofless);

// The median of `values` (the mean of the two middle ones for an even count); 0 when empty.
double median(std::vector<double> values);

}  // namespace spofless::bench
