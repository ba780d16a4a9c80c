#pragma once

// Every bound of the system, named once. A limit that is not here does not exist.
// Related limits are tied together with static_asserts so that changing one cannot
// silently break another.

#include <cstddef>
#include <cstdint>

namespace spofless::limits {

// --- Topology files (spofless analyze / up / drill) ---
inline constexpr std::size_t kTopologyFileMaxBytes = 1 << 20;
inline constexpr std::size_t kTopologyMaxHosts = 1024;
inline constexpr std::size_t kTopologyMaxComponents = 256;
inline constexpr std::uint32_t kComponentMaxReplicas = 1024;
inline constexpr std::size_t kNameMaxBytes = 63;  // a DNS label: names become host names.
inline constexpr std::size_t kKubernetesMaxDocuments = 1024;

// --- Admin HTTP server (/health /ready /metrics /status) ---
inline constexpr std::size_t kAdminMaxConnections = 64;
inline constexpr std::size_t kAdminRequestMaxBytes = std::size_t{8} * 1024;
inline constexpr std::uint32_t kAdminIdleTimeoutMs = 10'000;
inline constexpr std::uint32_t kDrainTimeoutMs = 10'000;

// --- Logging ---
inline constexpr std::size_t kLogFieldMaxBytes = std::size_t{4} * 1024;

static_assert(kAdminRequestMaxBytes >= 1024, "an admin request line and headers must fit");
static_assert(kDrainTimeoutMs >= kAdminIdleTimeoutMs / 10, "drain must outlast a scrape");

// --- Admin HTTP server, continued ---
// After a failed accept (e.g. EMFILE) the admin acceptor waits this long before trying again,
// so that a persistent error cannot spin the io_context thread.
inline constexpr std::uint32_t kAdminAcceptRetryMs = 100;
static_assert(kAdminAcceptRetryMs < kAdminIdleTimeoutMs, "accept retries must be quick");

// --- Raft ---
inline constexpr std::uint32_t kRaftElectionTimeoutTicks = 10;
inline constexpr std::uint32_t kRaftHeartbeatTicks = 2;
inline constexpr std::size_t kRaftMaxInflightAppends = 8;       // per follower
inline constexpr std::size_t kRaftMaxEntriesPerAppend = 64;
inline constexpr std::size_t kRaftMaxUncommittedEntries = 4096;  // proposals beyond: shed
inline constexpr std::size_t kRaftMaxVoters = 9;
inline constexpr std::size_t kRaftMaxPendingReads = 4096;  // read_index() beyond: shed
// Lease reads assume no two servers' clocks run more than this far apart in rate.
inline constexpr std::uint32_t kRaftMaxClockDriftPercent = 10;
// A follower must hear several heartbeats per election timeout, or a single lost one
// starts an election (Raft §5.2: broadcastTime << electionTimeout).
static_assert(kRaftHeartbeatTicks < kRaftElectionTimeoutTicks / 2,
              "heartbeat < election timeout / 2");

// --- Linearizability checker (src/check) ---
// Operations on one key that one search accepts. Every memoized search state holds one bit per
// operation of its key, so this bounds the size of a state.
inline constexpr std::size_t kLinearizabilityMaxOperationsPerKey = 4096;
// Operations in one history, over all keys.
inline constexpr std::size_t kLinearizabilityMaxOperations = std::size_t{1} << 20;
// Default search budget per key, in steps: one event visited, or one 64-bit word of a state
// hashed and stored. It bounds time and the memo alike (under about 30 bytes per step).
inline constexpr std::uint64_t kLinearizabilityDefaultSearchSteps = std::uint64_t{1} << 21;
// Bytes of a value shown in an explanation before it is cut short with "...".
inline constexpr std::size_t kLinearizabilityValueShownMaxBytes = 40;
static_assert(kLinearizabilityMaxOperationsPerKey <= kLinearizabilityMaxOperations,
              "a key's history is part of the history");
static_assert(kLinearizabilityDefaultSearchSteps >=
                  4 * kLinearizabilityMaxOperationsPerKey *
                      (kLinearizabilityMaxOperationsPerKey / 64 + 2),
              "the default budget walks the largest key's history in order several times over");

}  // namespace spofless::limits
