#pragma once

// The leader faults the failover tests inflict while clients load the cluster: in turn,
// kill -9 and restart the leader, and SIGSTOP it then SIGCONT it once another leader was
// elected. Between faults the cluster must elect a new leader, serve the load, and take the
// faulted node back (every node following one leader and caught up), each within a bound.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "db/cluster.h"
#include "db/load.h"

namespace spofless::db_test {

struct FaultPlan {
  std::size_t faults = 5;  // kill, pause, kill, pause, kill
  // Operations the load must have acknowledged while the faulted node is out, and again
  // after it is back: proof that the cluster served through the fault.
  // With 4 threads on a debug build this makes the whole plan last about 15-20 s.
  std::uint64_t progress_per_phase = 60;
  // Bounds for a loaded 2-core machine; reaching one means a hang, not slowness.
  std::chrono::milliseconds election_timeout{30'000};
  std::chrono::milliseconds progress_timeout{30'000};
  std::chrono::milliseconds convergence_timeout{60'000};
};

// Runs `plan` and returns one line per fault ("fault 1: kill -9 leader 2; new leader 3"),
// or the first bound that was missed.
Result<std::vector<std::string>> inflict_leader_faults(Cluster& cluster, LoadThreads& load,
                                                       const FaultPlan& plan);

}  // namespace spofless::db_test
