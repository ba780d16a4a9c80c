#include "db/faults.h"

#include <fmt/format.h>

namespace spofless::db_test {
namespace {

enum class Fault { kKill, kPause };

// One fault on the current leader, its recovery, and the checks between.
Result<std::string> one_fault(Cluster& cluster, LoadThreads& load, const FaultPlan& plan,
                              Fault fault_kind) {
  const bool kill = fault_kind == Fault::kKill;
  auto leader = cluster.wait_for_leader(plan.election_timeout);
  if (!leader.is_ok()) return leader.status();
  Status fault = kill ? cluster.kill(*leader) : cluster.pause(*leader);
  if (!fault.is_ok()) return fault;
  auto next = cluster.wait_for_leader(plan.election_timeout, /*not_id=*/*leader);
  if (!next.is_ok()) return next.status();
  if (Status s = load.wait_for_progress(plan.progress_per_phase, plan.progress_timeout);
      !s.is_ok()) {
    return Status(s.code(), fmt::format("with node {} out: {}", *leader, s.message()));
  }
  Status recovery = kill ? cluster.restart(*leader) : cluster.resume(*leader);
  if (!recovery.is_ok()) return recovery;
  if (Status s = cluster.wait_for_convergence(plan.convergence_timeout); !s.is_ok()) return s;
  if (Status s = load.wait_for_progress(plan.progress_per_phase, plan.progress_timeout);
      !s.is_ok()) {
    return Status(s.code(), fmt::format("after node {} came back: {}", *leader, s.message()));
  }
  return fmt::format("{} leader {}; node {} took over; node {} {} and caught up",
                     kill ? "kill -9" : "SIGSTOP", *leader, *next, *leader,
                     kill ? "restarted" : "got SIGCONT");
}

}  // namespace

Result<std::vector<std::string>> inflict_leader_faults(Cluster& cluster, LoadThreads& load,
                                                       const FaultPlan& plan) {
  std::vector<std::string> done;
  for (std::size_t i = 0; i < plan.faults; ++i) {
    auto line = one_fault(cluster, load, plan, i % 2 == 0 ? Fault::kKill : Fault::kPause);
    if (!line.is_ok()) {
      return Status(line.status().code(),
                    fmt::format("fault {}: {}", i + 1, line.status().message()));
    }
    done.push_back(fmt::format("fault {}: {}", i + 1, *line));
  }
  return done;
}

}  // namespace spofless::db_test
