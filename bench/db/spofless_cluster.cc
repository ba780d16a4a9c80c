#include "bench/db/spofless_cluster.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/db/bench_limits.h"
#include "bench/db/http_client.h"
#include "client/resp_connection.h"

namespace spofless::bench {
namespace {

using std::chrono::milliseconds;
using Kind = proto::RespValue::Kind;

// Thread model: owned by one worker thread.
class SpoflessConnection final : public KvConnection {
 public:
  explicit SpoflessConnection(std::unique_ptr<client::RespConnection> resp)
      : resp_(std::move(resp)) {}

  Status put(std::string_view key, std::string_view value, milliseconds timeout) override {
    auto reply = resp_->call({"SET", std::string(key), std::string(value)}, timeout);
    if (!reply.is_ok()) return reply.status();
    if (reply->kind != Kind::kSimple || reply->str != "OK") {
      return unavailable(fmt::format("spofless SET {}: {}", key, reply->to_string()));
    }
    return Status::ok();
  }

  Status get(std::string_view key, std::size_t expected_bytes, milliseconds timeout) override {
    auto reply = resp_->call({"GET", std::string(key)}, timeout);
    if (!reply.is_ok()) return reply.status();
    if (reply->kind != Kind::kBulk) {
      return unavailable(fmt::format("spofless GET {}: {}", key, reply->to_string()));
    }
    if (reply->str.size() != expected_bytes) {
      return unavailable(fmt::format("spofless GET {}: value of {} bytes, expected {}", key,
                                     reply->str.size(), expected_bytes));
    }
    return Status::ok();
  }

  bool broken() const override { return resp_->broken(); }

 private:
  std::unique_ptr<client::RespConnection> resp_;
};

class SpoflessCluster final : public Cluster {
 public:
  SpoflessCluster(SpoflessOptions options, std::string dir, std::vector<std::uint16_t> ports)
      : Cluster(std::move(dir), kClusterNodes),
        options_(std::move(options)),
        ports_(std::move(ports)) {}

  std::string_view name() const override { return "spofless"; }

  std::string settings() const override {
    return fmt::format(
        "spofless {}: --tick-ms {} --election-ticks {} --heartbeat-ticks {} (heartbeat {} ms, "
        "election timeout {} ms randomized up to twice that), fsync on (default)",
        options_.binary, options_.tick_ms, options_.election_ticks, options_.heartbeat_ticks,
        options_.tick_ms * options_.heartbeat_ticks, options_.tick_ms * options_.election_ticks);
  }

  Result<std::unique_ptr<KvConnection>> connect(std::size_t node,
                                                milliseconds timeout) const override {
    auto resp = client::RespConnection::connect(address(node, kClient), timeout);
    if (!resp.is_ok()) return resp.status();
    return std::unique_ptr<KvConnection>(new SpoflessConnection(std::move(*resp)));
  }

  // GET /status: {"role_status": {"role": "leader"|"follower"|..., "leader": id, ...}, ...}.
  Result<NodeView> view(std::size_t node) const override {
    auto http = HttpConnection::connect(address(node, kAdmin), milliseconds(kStatusTimeoutMs));
    if (!http.is_ok()) return http.status();
    auto reply = (*http)->get("/status", milliseconds(kStatusTimeoutMs));
    if (!reply.is_ok()) return reply.status();
    if (reply->status != 200) {
      return unavailable(fmt::format("spofless /status: HTTP {}", reply->status));
    }
    nlohmann::json j = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j["role_status"].is_object()) {
      return unavailable("spofless /status: no role_status object in the reply");
    }
    const nlohmann::json& role = j["role_status"];
    NodeView v;
    auto role_name = role.find("role");
    v.is_leader = role_name != role.end() && *role_name == "leader";
    auto leader = role.find("leader");
    v.knows_leader =
        leader != role.end() && leader->is_number_unsigned() && leader->get<std::uint64_t>() != 0;
    return v;
  }

 protected:
  std::vector<std::string> node_argv(std::size_t node) const override {
    std::string peers;
    for (std::size_t i = 0; i < kClusterNodes; ++i) {
      peers += fmt::format("{}{}={}", i == 0 ? "" : ",", i + 1, address(i, kPeer).to_string());
    }
    // One flag and its value per line.
    // clang-format off
    return {options_.binary,
            "db",
            "--id", std::to_string(node + 1),
            "--data", data_dir(node),
            "--listen", address(node, kClient).to_string(),
            "--peer-listen", address(node, kPeer).to_string(),
            "--peers", peers,
            "--admin", address(node, kAdmin).to_string(),
            "--tick-ms", std::to_string(options_.tick_ms),
            "--election-ticks", std::to_string(options_.election_ticks),
            "--heartbeat-ticks", std::to_string(options_.heartbeat_ticks)};
    // clang-format on
  }

 private:
  enum Port : std::size_t { kClient = 0, kPeer = 1, kAdmin = 2, kPortsPerNode = 3 };

  client::HostPort address(std::size_t node, Port port) const {
    return {"127.0.0.1", ports_[kPortsPerNode * node + port]};
  }

  SpoflessOptions options_;
  std::vector<std::uint16_t> ports_;
};

}  // namespace

Result<std::unique_ptr<Cluster>> make_spofless_cluster(const SpoflessOptions& options,
                                                       std::string dir) {
  auto ports = free_loopback_ports(3 * kClusterNodes);
  if (!ports.is_ok()) return ports.status();
  return std::unique_ptr<Cluster>(new SpoflessCluster(options, std::move(dir), std::move(*ports)));
}

}  // namespace spofless::bench
