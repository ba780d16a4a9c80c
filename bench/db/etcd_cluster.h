#pragma once

// Three etcd 3.4 members on 127.0.0.1, driven through etcd's JSON gateway (gRPC-gateway over
// HTTP/1.1): POST /v3/kv/put, /v3/kv/range (linearizable by default) and
// /v3/maintenance/status, keys and values base64-encoded in JSON.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bench/db/cluster.h"

namespace spofless::bench {

struct EtcdOptions {
  std::string binary = "/usr/bin/etcd";
  std::uint32_t heartbeat_ms = 80;  // --heartbeat-interval
  std::uint32_t election_ms = 400;  // --election-timeout
};

// A cluster whose nodes live under `dir` (start() creates it), on free loopback ports.
// Nothing runs until start().
Result<std::unique_ptr<Cluster>> make_etcd_cluster(const EtcdOptions& options, std::string dir);

// Standard base64 with padding (RFC 4648 §4), as the gateway expects for bytes fields.
std::string base64_encode(std::string_view bytes);

}  // namespace spofless::bench
