#pragma once

// Every bound of db_bench, named once. They live here rather than in src/core/limits.h because
// they bound a measuring tool, not the system: no server reads them, and changing one cannot
// break a server.

#include <cstddef>
#include <cstdint>

namespace spofless::bench {

// Nodes per cluster: both sides run three, the smallest cluster that survives a crash.
inline constexpr std::size_t kClusterNodes = 3;
// Bytes of every value written.
inline constexpr std::size_t kValueBytes = 100;

// --- Command line ---
inline constexpr std::size_t kMaxWriterCounts = 16;  // entries of --writers
inline constexpr std::size_t kMaxWorkers = 256;      // threads (connections) of one phase
inline constexpr std::uint32_t kMaxPhaseSeconds = 600;
inline constexpr std::uint32_t kMaxRounds = 20;
inline constexpr std::uint32_t kMaxFailoverTrials = 100;

// --- Load phases ---
// Operations of one phase over all its workers; a worker stops at kMaxOpsPerPhase / workers,
// whatever its clock says, so the latency samples it keeps stay bounded.
inline constexpr std::size_t kMaxOpsPerPhase = std::size_t{4} << 20;
// One request of a load phase; a request not answered this soon counts as an error and its
// connection is dropped.
inline constexpr std::uint32_t kRequestTimeoutMs = 5'000;
// Failed requests a worker tolerates before it gives up on the phase: a dead cluster must not
// turn a phase into a loop of failures.
inline constexpr std::size_t kMaxErrorsPerWorker = 1'000;
// Keys the read phase reads, written once before it, and the readers that read them.
inline constexpr std::size_t kReadKeys = 256;
inline constexpr std::size_t kDefaultReaders = 16;
// After a cluster starts: every node must name the leader, then this many writers write for
// this long, unreported, so that connections, caches and the first WAL segment are in place.
inline constexpr std::size_t kWarmupWriters = 16;
inline constexpr std::uint32_t kWarmupMs = 1'000;

// --- Disk probe: fsync latency of the data directory's disk, before and after the run ---
inline constexpr std::size_t kDiskProbeWrites = 50;  // 4 KiB writes, each followed by fsync

// --- Cluster lifecycle ---
inline constexpr std::uint32_t kLeaderWaitMs = 30'000;    // after a start or a restart
inline constexpr std::uint32_t kLeaderPollMs = 20;        // between two rounds of status calls
inline constexpr std::uint32_t kStatusTimeoutMs = 1'000;  // one status request
inline constexpr std::uint32_t kStopTimeoutMs = 10'000;   // SIGTERM, then SIGKILL after this
inline constexpr std::size_t kHttpReplyMaxBytes = std::size_t{1} << 20;

// --- Failover trials ---
// One write attempt of the failover writer: a write that the old leader took with it, or that
// a leaderless follower holds (etcd holds it for about 6 s), is given up on after this and
// retried elsewhere. It is the resolution of the measured window, the same for both sides.
inline constexpr std::uint32_t kFailoverAttemptTimeoutMs = 100;
// Backoff between failed attempts: doubles from min to max.
inline constexpr std::uint32_t kFailoverBackoffMinMs = 1;
inline constexpr std::uint32_t kFailoverBackoffMaxMs = 16;
// Acknowledged writes before the leader is killed, so that the writer is in its steady state.
inline constexpr std::size_t kFailoverWarmupAcks = 20;
// A trial with no acknowledged write this long after the kill fails.
inline constexpr std::uint32_t kFailoverMaxWindowMs = 30'000;
// Attempts one trial makes at most (acknowledged or not).
inline constexpr std::size_t kFailoverMaxAttempts = std::size_t{1} << 20;

static_assert(kFailoverBackoffMinMs > 0 && kFailoverBackoffMinMs <= kFailoverBackoffMaxMs,
              "backoff bounds are ordered");
static_assert(kFailoverBackoffMaxMs < kFailoverAttemptTimeoutMs,
              "backoff stays below the window's resolution");
static_assert(kMaxOpsPerPhase / kMaxWorkers >= 1024, "every worker keeps enough samples");
static_assert(kDefaultReaders <= kMaxWorkers && kReadKeys > 0, "the read phase is runnable");
static_assert(kWarmupWriters <= kMaxWorkers && kDiskProbeWrites > 0, "warm-up and probe run");

}  // namespace spofless::bench
