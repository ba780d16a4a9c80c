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

}  // namespace spofless::limits
