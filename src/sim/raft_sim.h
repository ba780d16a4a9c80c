#pragma once

// A deterministic simulation of a Raft cluster: one thread, simulated ticks, a seeded network
// that drops, delays, duplicates and reorders messages and cuts links (both ways or one way),
// crashes that lose everything not yet persisted, restarts from disk, and clients that write
// and read registers through the log with deadlines and retries. Checkers run on every tick
// (one leader per term, state-machine safety, leader completeness) and at the end
// (linearizability of the clients' history, no acknowledged write lost, liveness once the
// network heals). Planned leadership transfers happen in the middle of all this. The same
// seed replays the same run exactly.

#include <cstdint>
#include <string>
#include <vector>

namespace spofless::sim {

struct RaftSimOptions {
  std::uint64_t seed = 1;
  std::size_t nodes = 3;
  bool pre_vote = true;
  bool check_quorum = true;
  std::uint32_t chaos_ticks = 600;  // faults are injected during this phase,
  std::uint32_t calm_ticks = 300;   // then everything heals and restarts
  std::uint32_t max_delay_ticks = 3;
  std::uint32_t max_disk_ticks = 2;  // persisting a Ready takes 0..max_disk_ticks
  double drop = 0.05;
  double duplicate = 0.02;
  double partition_per_tick = 0.01;
  double crash_per_tick = 0.005;
  double transfer_per_tick = 0.003;  // planned leadership transfers, during the faults
  std::size_t clients = 3;
  std::size_t keys = 2;
  std::uint32_t op_deadline_ticks = 60;
  // Test-only: plant a known bug (votes granted without the §5.4.1 log check) to prove the
  // checkers catch it.
  bool plant_bug = false;
};

struct RaftSimResult {
  bool ok = true;
  std::string failure;             // the first checker that failed, and why
  std::vector<std::string> trace;  // the events that led to it, oldest first
  std::uint64_t elections = 0;     // terms in which a leader was elected
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t transfers = 0;            // requested
  std::uint64_t transfers_completed = 0;  // the chosen server became leader
  std::uint64_t ops_ok = 0;
  std::uint64_t ops_unknown = 0;
  // Ticks from each crash of a leader to the first entry committed under a newer leader.
  std::vector<std::uint64_t> failover_ticks;
};

RaftSimResult run_raft_sim(const RaftSimOptions& options);

}  // namespace spofless::sim
