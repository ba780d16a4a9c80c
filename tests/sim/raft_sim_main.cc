// Runs the Raft simulation over many seeds, or replays one.
//   raft_sim --seeds 2000             CI: seeds 1..2000 across scenario kinds
//   raft_sim --seed 1234 --trace      replay one seed exactly, printing its events
//   raft_sim --seeds 300 --plant-bug --expect-failure   the checkers catch a planted bug
// A seed's scenario (3 or 5 servers, pre-vote and check-quorum on or off, ReadIndex or lease
// reads, membership changes on or off) follows from the seed, so a seed alone replays it.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/raft_sim.h"

namespace {

spofless::sim::RaftSimOptions scenario(std::uint64_t seed, bool plant_bug) {
  spofless::sim::RaftSimOptions o;
  o.seed = seed;
  o.nodes = seed % 2 == 0 ? 3 : 5;
  o.pre_vote = (seed / 2) % 2 == 0;
  o.check_quorum = (seed / 4) % 2 == 0;
  // Lease reads rest on check-quorum's promise not to vote while a leader is heard.
  bool lease = o.check_quorum && (seed / 8) % 2 == 0;
  o.read_mode = lease ? spofless::raft::ReadMode::kLease : spofless::raft::ReadMode::kReadIndex;
  o.membership_changes = (seed / 16) % 2 == 0;
  // A server re-syncing a lost log cannot vote, like a server that stays down. With
  // membership changes in flight that can leave no server both electable and known as a voter
  // to a majority (a removed server holding the newest entries, a lagging one that does not
  // know the newest voter), which the liveness check does not allow for: losses only without.
  if (o.membership_changes) o.log_loss = 0;
  o.plant_bug = plant_bug;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulation of a spofless Raft cluster under faults."};
  std::uint64_t seed = 0;
  std::uint64_t seeds = 100;
  std::uint64_t first = 1;
  bool trace = false;
  bool plant_bug = false;
  bool expect_failure = false;
  app.add_option("--seed", seed, "Replay this one seed");
  app.add_option("--seeds", seeds, "Run this many seeds")->capture_default_str();
  app.add_option("--first-seed", first, "First of the seeds")->capture_default_str();
  app.add_flag("--trace", trace, "Print the events of every run (with --seed)");
  app.add_flag("--plant-bug", plant_bug, "Votes ignore the log check (Raft 5.4.1)");
  app.add_flag("--expect-failure", expect_failure, "Succeed only if some seed fails");
  CLI11_PARSE(app, argc, argv);
  if (seed != 0) {
    first = seed;
    seeds = 1;
  }

  std::uint64_t failed = 0;
  // The last seed run (none yet): --expect-failure stops at the first failure.
  std::uint64_t last = first - 1;
  spofless::sim::RaftSimCounts totals;
  for (std::uint64_t s = first; s < first + seeds; ++s) {
    last = s;
    spofless::sim::RaftSimOptions o = scenario(s, plant_bug);
    spofless::sim::RaftSimResult r = spofless::sim::run_raft_sim(o);
    totals += r.counts;
    if (trace || (!r.ok && !expect_failure)) {
      for (const std::string& e : r.trace) fmt::print("  {}\n", e);
    }
    if (r.ok) continue;
    ++failed;
    fmt::print(
        "SEED={} FAILED ({} servers, pre_vote={}, check_quorum={}, lease_reads={}, "
        "membership_changes={}): {}\n",
        s, o.nodes, o.pre_vote, o.check_quorum, o.read_mode == spofless::raft::ReadMode::kLease,
        o.membership_changes, r.failure);
    fmt::print("replay: {} --seed {}{} --trace\n", argv[0], s, plant_bug ? " --plant-bug" : "");
    if (expect_failure) break;
  }
  fmt::print("seeds {}..{}: {}\n", first, last, spofless::sim::to_string(totals));
  if (expect_failure) {
    fmt::print("{}\n", failed > 0 ? "planted bug caught" : "planted bug NOT caught");
    return failed > 0 ? 0 : 1;
  }
  fmt::print("{} passed, {} failed\n", seeds - failed, failed);
  return failed == 0 ? 0 : 1;
}
