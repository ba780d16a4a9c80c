#pragma once

// A deterministic simulation of a Raft cluster: one thread, simulated ticks, a seeded network
// that drops, delays, duplicates and reorders messages and cuts links (both ways or one way),
// crashes that lose everything not yet persisted (and some, a random suffix of the log on
// disk: the server restarts knowing its log lost entries), restarts from disk, planned leadership
// transfers, and register clients with deadlines that write through the leader's log and read
// through read_index (ReadIndex or lease) on any member, follower and learner included.
// Optionally, membership changes in flight: a spare server joins as a learner and is promoted,
// voters beyond the first N are removed (the leader too), and a removed server either keeps
// running (shut down instead when neither pre-vote nor check-quorum keeps it from disrupting)
// or comes back as a fresh server with an empty disk. Every server compacts its log every few
// dozen entries, so lagging and restarted followers catch up by InstallSnapshot.
//
// Checkers: on every apply, state-machine safety by entry and by state (a snapshot must hold
// the state its index stands for); on every tick, one leader per term, only voters campaign
// or lead, and a new leader holds every committed entry its snapshot does not cover; every 20
// ticks and at the end, log matching; at the end, no acknowledged write lost, linearizability
// of the clients' history, and liveness once the network heals and every server restarts.
// Crashes keep a majority of every membership that may be in force up. The same seed replays
// the same run exactly.

#include <cstdint>
#include <string>
#include <vector>

#include "raft/raft.h"

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
  // Chance that a crash also loses a random suffix of the server's log entries on disk, as a
  // corrupt record in the middle of a write-ahead log would; the server restarts with
  // Config::log_lost, and keeps it across restarts until it has re-synced. At most one server
  // is in that state at a time (two could leave no majority able to elect anyone, correctly).
  // The runner turns it off with membership changes (see its scenario()).
  double log_loss = 0.3;
  double transfer_per_tick = 0.003;  // planned leadership transfers, during the faults
  std::size_t clients = 3;
  std::size_t keys = 2;
  std::uint32_t op_deadline_ticks = 60;
  raft::ReadMode read_mode = raft::ReadMode::kReadIndex;  // kLease needs check_quorum
  // Membership changes during the faults, with a spare server N+1 that starts as a joiner.
  bool membership_changes = false;
  double membership_change_per_tick = 0.02;
  double reset_removed = 0.5;  // chance that a removed server is re-added with an empty disk
  // A server compacts its log once more than this many applied entries follow its snapshot.
  std::uint64_t compact_after_entries = 25;
  // Test-only: plant a known bug (votes granted without the §5.4.1 log check) to prove the
  // checkers catch it.
  bool plant_bug = false;
};

// What runs did, added up over seeds by the runner.
struct RaftSimCounts {
  std::uint64_t elections = 0;  // terms in which a leader was elected
  std::uint64_t crashes = 0;
  std::uint64_t log_losses = 0;  // crashes that also lost log entries on disk
  std::uint64_t resyncs = 0;     // servers that left the lost-log state
  std::uint64_t partitions = 0;
  std::uint64_t transfers = 0;            // requested
  std::uint64_t transfers_completed = 0;  // the chosen server became leader
  std::uint64_t ops_ok = 0;
  std::uint64_t ops_unknown = 0;
  std::uint64_t reads_ok = 0;            // of ops_ok: reads served through read_index
  std::uint64_t membership_changes = 0;  // committed
  std::uint64_t resets = 0;              // removed servers replaced by fresh ones
  std::uint64_t snapshots_installed = 0;
  std::uint64_t compactions = 0;
  // Ticks from each crash of a leader to the first entry committed under a newer leader.
  std::vector<std::uint64_t> failover_ticks;

  RaftSimCounts& operator+=(const RaftSimCounts& other);
};

// One line: "8595 elections, 5466 crashes, ... leader failovers 1144 (median 42 ticks ...)".
std::string to_string(const RaftSimCounts& counts);

struct RaftSimResult {
  bool ok = true;
  std::string failure;             // the first checker that failed, and why
  std::vector<std::string> trace;  // the events that led to it, oldest first
  RaftSimCounts counts;
};

RaftSimResult run_raft_sim(const RaftSimOptions& options);

}  // namespace spofless::sim
