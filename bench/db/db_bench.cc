// db_bench: spofless db and etcd 3.4, three nodes each on this machine with fsync on, under the
// same closed-loop load, in one run; then the unavailability window after kill -9 of the
// leader. Prints a table on stdout; progress goes to stderr. See bench/README.md.

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bench/db/bench_limits.h"
#include "bench/db/cluster.h"
#include "bench/db/disk_probe.h"
#include "bench/db/etcd_cluster.h"
#include "bench/db/failover.h"
#include "bench/db/interrupt.h"
#include "bench/db/report.h"
#include "bench/db/spofless_cluster.h"
#include "bench/db/workload.h"
#include "obs/log.h"

namespace spofless::bench {
namespace {

using std::chrono::milliseconds;

constexpr long kTmpfsMagic = 0x01021994;
constexpr long kRamfsMagic = 0x858458f6;
// Workers that write the read phase's keys.
constexpr std::size_t kPreloadWorkers = 16;
static_assert(kReadKeys % kPreloadWorkers == 0, "the preload workers share the keys evenly");

struct Config {
  std::string spofless_binary;
  std::string etcd_binary = "/usr/bin/etcd";
  std::uint32_t seconds = 5;
  std::uint32_t rounds = 3;
  std::vector<std::size_t> writers{1, 16, 64};
  std::size_t readers = kDefaultReaders;
  std::uint32_t failover_trials = 3;
  std::uint32_t failover_attempt_ms = kFailoverAttemptTimeoutMs;
  std::string only;  // "", "etcd" or "spofless"
  std::string work_dir = "/var/tmp";
  bool keep_data = false;
};

struct Side {
  std::unique_ptr<Cluster> cluster;  // null when --only excludes it
  SideReport report;
};

Status check_config(const Config& c) {
  if (c.writers.empty() || c.writers.size() > kMaxWriterCounts) {
    return invalid_argument(fmt::format("--writers: {} counts given, expected 1 to {}",
                                        c.writers.size(), kMaxWriterCounts));
  }
  for (std::size_t i = 0; i < c.writers.size(); ++i) {
    if (c.writers[i] < 1 || c.writers[i] > kMaxWorkers) {
      return invalid_argument(fmt::format("--writers item {} is {}: expected 1 to {}", i + 1,
                                          c.writers[i], kMaxWorkers));
    }
  }
  if (c.only != "etcd" && c.spofless_binary.empty()) {
    return invalid_argument("--spofless PATH is required (or --only etcd)");
  }
  for (auto [flag, path, needed] : {std::tuple{"--spofless", &c.spofless_binary, c.only != "etcd"},
                                    std::tuple{"--etcd", &c.etcd_binary, c.only != "spofless"}}) {
    if (needed && access(path->c_str(), X_OK) != 0) {
      return invalid_argument(fmt::format("{} {}: not an executable file", flag, *path));
    }
  }
  return Status::ok();
}

// A fresh directory under `work_dir`, refused on tmpfs: fsync there costs nothing, and the
// comparison would measure memory instead of the disk.
Result<std::string> make_run_dir(const std::string& work_dir) {
  struct statfs fs {};
  if (statfs(work_dir.c_str(), &fs) != 0) {
    return invalid_argument(fmt::format("--work-dir {}: {}", work_dir, std::strerror(errno)));
  }
  if (static_cast<long>(fs.f_type) == kTmpfsMagic || static_cast<long>(fs.f_type) == kRamfsMagic) {
    return invalid_argument(fmt::format(
        "--work-dir {} is in memory (tmpfs or ramfs): fsync would cost nothing; use a directory "
        "on disk such as /var/tmp",
        work_dir));
  }
  std::string pattern = work_dir + "/spofless-db-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return unavailable(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
  }
  return pattern;
}

Status make_sides(const Config& c, const std::string& dir, Side& etcd, Side& spofless) {
  etcd.report.name = "etcd";
  spofless.report.name = "spofless";
  if (c.only != "spofless") {
    auto made = make_etcd_cluster(EtcdOptions{.binary = c.etcd_binary}, dir + "/etcd");
    if (!made.is_ok()) return made.status();
    etcd.cluster = std::move(*made);
  }
  if (c.only != "etcd") {
    auto made =
        make_spofless_cluster(SpoflessOptions{.binary = c.spofless_binary}, dir + "/spofless");
    if (!made.is_ok()) return made.status();
    spofless.cluster = std::move(*made);
  }
  for (Side* side : {&etcd, &spofless}) {
    if (!side->cluster) continue;
    side->report.enabled = true;
    side->report.settings = side->cluster->settings();
  }
  return Status::ok();
}

Status start_cluster(Side& side) {
  obs::info("cluster.starting", {{"system", side.report.name}});
  if (Status s = side.cluster->start(); !s.is_ok()) return s;
  auto leader = side.cluster->wait_leader(milliseconds(kLeaderWaitMs));
  if (!leader.is_ok()) return leader.status();
  for (std::size_t i = 0; i < side.cluster->size(); ++i) {
    if (Status s = side.cluster->wait_following(i, milliseconds(kLeaderWaitMs)); !s.is_ok()) {
      return s;
    }
  }
  obs::info("cluster.ready", {{"system", side.report.name}, {"leader", *leader + 1}});
  return Status::ok();
}

// One phase on the current leader, logged before and after.
Result<PhaseResult> phase(Side& side, const PhaseSpec& spec, std::string_view what) {
  auto leader = side.cluster->wait_leader(milliseconds(kLeaderWaitMs));
  if (!leader.is_ok()) return leader.status();
  obs::info("phase.started", {{"system", side.report.name},
                              {"phase", what},
                              {"workers", spec.workers},
                              {"leader", *leader + 1}});
  PhaseResult r = run_phase(*side.cluster, *leader, spec);
  obs::info("phase.finished", {{"system", side.report.name},
                               {"phase", what},
                               {"ops", r.ops},
                               {"ops_per_second", r.ops_per_second()},
                               {"errors", r.errors}});
  if (interrupted()) return unavailable("interrupted");
  return r;
}

// Unreported writes right after the start (bench_limits.h: kWarmupMs), then the keys the read
// phases read.
Status warm_up(Side& side) {
  PhaseSpec spec{.kind = OpKind::kWrite,
                 .workers = kWarmupWriters,
                 .duration = milliseconds(kWarmupMs),
                 .key_prefix = "warmup"};
  auto r = phase(side, spec, "warmup");
  if (!r.is_ok()) return r.status();
  if (r->ops == 0) {
    return unavailable(fmt::format("{}: no write acknowledged while warming up; first error: {}",
                                   side.report.name, r->first_error));
  }
  PhaseSpec preload{.kind = OpKind::kWrite,
                    .workers = kPreloadWorkers,
                    .duration = std::chrono::seconds(kMaxPhaseSeconds),
                    .key_prefix = "read",
                    .ops_per_worker = kReadKeys / kPreloadWorkers};
  r = phase(side, preload, "preload");
  if (!r.is_ok()) return r.status();
  if (r->ops != kReadKeys) {
    return unavailable(fmt::format("{}: preload wrote {} of {} keys; first error: {}",
                                   side.report.name, r->ops, kReadKeys, r->first_error));
  }
  return Status::ok();
}

// One round: every write phase, then the read phase, each on both systems in turn.
Status load_round(const Config& c, std::size_t round, Side& etcd, Side& spofless) {
  for (std::size_t i = 0; i < c.writers.size(); ++i) {
    for (Side* side : {&etcd, &spofless}) {
      if (!side->cluster) continue;
      PhaseSpec spec{.kind = OpKind::kWrite,
                     .workers = c.writers[i],
                     .duration = std::chrono::seconds(c.seconds),
                     .key_prefix = fmt::format("r{}w{}", round, c.writers[i])};
      auto r = phase(*side, spec, "write");
      if (!r.is_ok()) return r.status();
      side->report.writes.resize(c.writers.size());
      side->report.writes[i].push_back(summarize(*r));
    }
  }
  for (Side* side : {&etcd, &spofless}) {
    if (!side->cluster) continue;
    PhaseSpec spec{.kind = OpKind::kRead,
                   .workers = c.readers,
                   .duration = std::chrono::seconds(c.seconds),
                   .key_prefix = "read"};
    auto r = phase(*side, spec, "read");
    if (!r.is_ok()) return r.status();
    side->report.reads.push_back(summarize(*r));
  }
  return Status::ok();
}

Status failover_trials(const Config& c, Side& etcd, Side& spofless) {
  for (std::size_t trial = 0; trial < c.failover_trials; ++trial) {
    for (Side* side : {&etcd, &spofless}) {
      if (!side->cluster) continue;
      obs::info("failover.started", {{"system", side->report.name}, {"trial", trial + 1}});
      auto t = run_failover_trial(*side->cluster, trial, milliseconds(c.failover_attempt_ms));
      if (!t.is_ok()) return t.status();
      obs::info("failover.finished", {{"system", side->report.name},
                                      {"trial", trial + 1},
                                      {"killed_node", t->killed_node + 1},
                                      {"window_ms", t->window_ms},
                                      {"rejoin_ms", t->rejoin_ms}});
      side->report.failovers.push_back(*t);
    }
  }
  return Status::ok();
}

// Logs and returns the disk's fsync latency; nothing when the probe failed.
std::optional<DiskProbe> probe_disk(const std::string& dir, std::string_view when) {
  auto p = probe_fsync(dir);
  if (!p.is_ok()) {
    obs::warn("disk.probe_failed", {{"when", when}, {"error", p.status().message()}});
    return std::nullopt;
  }
  obs::info("disk.probed", {{"when", when}, {"p50_ms", p->p50_ms}, {"max_ms", p->max_ms}});
  return *p;
}

// Runs everything in `dir`; prints whatever was measured, also after a failure.
int run(const Config& c, const std::string& dir) {
  std::optional<DiskProbe> disk_before = probe_disk(dir, "before");
  Side etcd;
  Side spofless;
  Status s = make_sides(c, dir, etcd, spofless);
  for (Side* side : {&etcd, &spofless}) {
    if (s.is_ok() && side->cluster) s = start_cluster(*side);
  }
  for (Side* side : {&etcd, &spofless}) {
    if (s.is_ok() && side->cluster) s = warm_up(*side);
  }
  for (std::size_t round = 0; round < c.rounds && s.is_ok(); ++round) {
    obs::info("round.started", {{"round", round + 1}, {"rounds", c.rounds}});
    s = load_round(c, round, etcd, spofless);
  }
  if (s.is_ok()) s = failover_trials(c, etcd, spofless);
  for (Side* side : {&etcd, &spofless}) {
    if (!side->cluster) continue;
    obs::info("cluster.stopping", {{"system", side->report.name}});
    side->cluster->stop();
  }
  RunShape shape{.writer_counts = c.writers,
                 .readers = c.readers,
                 .seconds = static_cast<double>(c.seconds),
                 .rounds = c.rounds,
                 .failover_trials = c.failover_trials,
                 .failover_attempt_ms = c.failover_attempt_ms,
                 .data_dir = c.work_dir,
                 .disk_before = disk_before,
                 .disk_after = probe_disk(dir, "after")};
  print_report(stdout, shape, etcd.report, spofless.report);
  if (!s.is_ok()) {
    obs::error("bench.failed", {{"error", s.message()}});
    return 1;
  }
  return 0;
}

void add_options(CLI::App& app, Config& c) {
  app.add_option("--spofless", c.spofless_binary,
                 "The spofless executable (build/<preset>/src/spofless)");
  app.add_option("--etcd", c.etcd_binary, "The etcd 3.4 executable")->capture_default_str();
  app.add_option("--seconds", c.seconds, "Length of each load phase")
      ->check(CLI::Range(std::uint32_t{1}, kMaxPhaseSeconds))
      ->capture_default_str();
  app.add_option("--rounds", c.rounds,
                 "Rounds of all load phases; each figure is the round with the median rate")
      ->check(CLI::Range(std::uint32_t{1}, kMaxRounds))
      ->capture_default_str();
  app.add_option("--writers", c.writers, "Concurrent writers of each write phase, e.g. 1,16,64")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--readers", c.readers, "Concurrent readers of the read phase")
      ->check(CLI::Range(std::size_t{1}, kMaxWorkers))
      ->capture_default_str();
  app.add_option("--failover-trials", c.failover_trials, "Leader kills per system (0: none)")
      ->check(CLI::Range(std::uint32_t{0}, kMaxFailoverTrials))
      ->capture_default_str();
  app.add_option("--failover-attempt-ms", c.failover_attempt_ms,
                 "Timeout of one write attempt while failing over (the window's resolution)")
      ->check(CLI::Range(std::uint32_t{10}, std::uint32_t{kRequestTimeoutMs}))
      ->capture_default_str();
  app.add_option("--only", c.only, "Run one system only")
      ->check(CLI::IsMember({"etcd", "spofless"}));
  app.add_option("--work-dir", c.work_dir,
                 "Where the data directories go (on disk, not tmpfs); removed at the end")
      ->capture_default_str();
  app.add_flag("--keep-data", c.keep_data, "Keep the data directories and node logs");
}

}  // namespace
}  // namespace spofless::bench

int main(int argc, char** argv) {
  using namespace spofless::bench;
  CLI::App app{"db_bench: spofless db vs etcd 3.4, 3 nodes each with fsync on, side by side",
               "db_bench"};
  Config config;
  add_options(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (spofless::Status s = check_config(config); !s.is_ok()) {
    fmt::print(stderr, "db_bench: {}\n", s.message());
    return 2;
  }
  spofless::obs::init_logging(spofless::obs::LogFormat::kText, spofless::obs::LogLevel::kInfo,
                              "db_bench");
  install_interrupt_handlers();
  auto dir = make_run_dir(config.work_dir);
  if (!dir.is_ok()) {
    fmt::print(stderr, "db_bench: {}\n", dir.status().message());
    return 2;
  }
  int code = run(config, *dir);
  if (config.keep_data) {
    spofless::obs::info("data.kept", {{"dir", *dir}});
  } else {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
    if (ec) spofless::obs::warn("data.not_removed", {{"dir", *dir}, {"error", ec.message()}});
  }
  return code;
}
