#pragma once

// Three `spofless db` nodes on 127.0.0.1, driven over RESP2 (SET, GET) with the project's own
// client connection (src/client/resp_connection.h); leadership read from each node's admin
// endpoint (GET /status, "role_status").

#include <cstdint>
#include <memory>
#include <string>

#include "bench/db/cluster.h"

namespace spofless::bench {

struct SpoflessOptions {
  std::string binary;  // the `spofless` executable
  std::uint32_t tick_ms = 40;
  std::uint32_t election_ticks = 10;
  std::uint32_t heartbeat_ticks = 2;
};

// A cluster whose nodes live under `dir` (start() creates it), on free loopback ports.
// Nothing runs until start().
Result<std::unique_ptr<Cluster>> make_spofless_cluster(const SpoflessOptions& options,
                                                       std::string dir);

}  // namespace spofless::bench
