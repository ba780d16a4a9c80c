#pragma once

// The unavailability window of one leader crash: one writer writes continuously to the leader,
// the leader is killed with SIGKILL, and the window is the time from the last write the old
// leader acknowledged to the first write acknowledged after it died.

#include <chrono>
#include <cstddef>
#include <string>

#include "bench/db/cluster.h"

namespace spofless::bench {

struct FailoverTrial {
  double window_ms = 0;
  std::size_t killed_node = 0;  // 0-based
  // Diagnostics of the window, for the report:
  double kill_ms = 0;  // from kill(SIGKILL) until the process was reaped
  // Of the attempts sent after the process was reaped: how many failed (error reply, broken,
  // timed out, refused), the longest one, and the last failure's message.
  std::size_t failed_attempts = 0;
  double longest_attempt_ms = 0;
  std::string last_error;
  double rejoin_ms = 0;  // from the restart until the killed node named a leader
};

// One trial. The writer sends each attempt with `attempt_timeout`; after a failure it backs
// off (kFailoverBackoffMinMs doubling to kFailoverBackoffMaxMs) and tries the next node, any
// node, until a write succeeds. Writes count as before the crash when sent before the killed
// process was reaped, as after it when sent later. Afterwards the killed node is restarted and
// the trial waits until it names a leader, so every trial starts from a whole cluster.
// Fails when the cluster has no leader, the writer cannot warm up, or no write succeeds within
// kFailoverMaxWindowMs of the kill.
Result<FailoverTrial> run_failover_trial(Cluster& cluster, std::size_t trial,
                                         std::chrono::milliseconds attempt_timeout);

}  // namespace spofless::bench
