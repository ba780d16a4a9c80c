#include "bench/db/etcd_cluster.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/db/bench_limits.h"
#include "bench/db/http_client.h"

namespace spofless::bench {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kErrorBodyShownBytes = 200;

std::size_t base64_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

Status reply_error(std::string_view what, const HttpReply& reply) {
  return unavailable(fmt::format("etcd {}: HTTP {}: {}", what, reply.status,
                                 reply.body.substr(0, kErrorBodyShownBytes)));
}

// obj[key] when it is a string, else empty: a field of another type is no answer.
std::string string_field(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A JSON object parsed from a reply body.
Result<nlohmann::json> parse_json(std::string_view what, const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return unavailable(fmt::format("etcd {}: reply is not a JSON object: {}", what,
                                   body.substr(0, kErrorBodyShownBytes)));
  }
  return j;
}

// Thread model: owned by one worker thread.
class EtcdConnection final : public KvConnection {
 public:
  explicit EtcdConnection(std::unique_ptr<HttpConnection> http) : http_(std::move(http)) {}

  Status put(std::string_view key, std::string_view value, milliseconds timeout) override {
    std::string body =
        fmt::format(R"({{"key":"{}","value":"{}"}})", base64_encode(key), base64_encode(value));
    auto reply = http_->post("/v3/kv/put", std::move(body), timeout);
    if (!reply.is_ok()) return reply.status();
    if (reply->status != 200) return reply_error("put", *reply);
    return Status::ok();
  }

  Status get(std::string_view key, std::size_t expected_bytes, milliseconds timeout) override {
    std::string body = fmt::format(R"({{"key":"{}"}})", base64_encode(key));
    auto reply = http_->post("/v3/kv/range", std::move(body), timeout);
    if (!reply.is_ok()) return reply.status();
    if (reply->status != 200) return reply_error("range", *reply);
    auto j = parse_json("range", reply->body);
    if (!j.is_ok()) return j.status();
    auto kvs = j->find("kvs");
    std::string value = kvs != j->end() && kvs->is_array() && !kvs->empty()
                            ? string_field(kvs->front(), "value")
                            : std::string();
    std::size_t got = value.size();
    if (got != base64_size(expected_bytes)) {
      return unavailable(fmt::format("etcd range {}: value of {} base64 characters, expected {}",
                                     key, got, base64_size(expected_bytes)));
    }
    return Status::ok();
  }

  bool broken() const override { return http_->broken(); }

 private:
  std::unique_ptr<HttpConnection> http_;
};

class EtcdCluster final : public Cluster {
 public:
  EtcdCluster(EtcdOptions options, std::string dir, std::vector<std::uint16_t> ports)
      : Cluster(std::move(dir), kClusterNodes),
        options_(std::move(options)),
        ports_(std::move(ports)) {}

  std::string_view name() const override { return "etcd"; }

  std::string settings() const override {
    return fmt::format(
        "etcd {}: --heartbeat-interval {} --election-timeout {} (Raft ticks of {} ms, election "
        "after {} ticks randomized up to twice that), fsync on (default), pre-vote off "
        "(3.4 default)",
        options_.binary, options_.heartbeat_ms, options_.election_ms, options_.heartbeat_ms,
        options_.election_ms / options_.heartbeat_ms);
  }

  Result<std::unique_ptr<KvConnection>> connect(std::size_t node,
                                                milliseconds timeout) const override {
    auto http = HttpConnection::connect(client_address(node), timeout);
    if (!http.is_ok()) return http.status();
    return std::unique_ptr<KvConnection>(new EtcdConnection(std::move(*http)));
  }

  Result<NodeView> view(std::size_t node) const override {
    auto http = HttpConnection::connect(client_address(node), milliseconds(kStatusTimeoutMs));
    if (!http.is_ok()) return http.status();
    auto reply = (*http)->post("/v3/maintenance/status", "{}", milliseconds(kStatusTimeoutMs));
    if (!reply.is_ok()) return reply.status();
    if (reply->status != 200) return reply_error("status", *reply);
    auto j = parse_json("status", reply->body);
    if (!j.is_ok()) return j.status();
    // uint64 fields come as decimal strings in the gateway's JSON.
    std::string leader = string_field(*j, "leader");
    auto header = j->find("header");
    std::string self = header != j->end() ? string_field(*header, "member_id") : std::string();
    NodeView v;
    v.knows_leader = !leader.empty() && leader != "0";
    v.is_leader = v.knows_leader && leader == self;
    return v;
  }

 protected:
  std::vector<std::string> node_argv(std::size_t node) const override {
    std::string cluster;
    for (std::size_t i = 0; i < kClusterNodes; ++i) {
      cluster += fmt::format("{}{}={}", i == 0 ? "" : ",", member(i), peer_url(i));
    }
    // One flag and its value per line.
    // clang-format off
    return {options_.binary,
            "--name", member(node),
            "--data-dir", data_dir(node),
            "--listen-client-urls", client_url(node),
            "--advertise-client-urls", client_url(node),
            "--listen-peer-urls", peer_url(node),
            "--initial-advertise-peer-urls", peer_url(node),
            "--initial-cluster", cluster,
            "--initial-cluster-state", "new",  // ignored on a restart: the WAL exists
            "--initial-cluster-token", "spofless-db-bench",
            "--heartbeat-interval", std::to_string(options_.heartbeat_ms),
            "--election-timeout", std::to_string(options_.election_ms)};
    // clang-format on
  }

 private:
  static std::string member(std::size_t node) { return fmt::format("n{}", node + 1); }
  client::HostPort client_address(std::size_t node) const {
    return {"127.0.0.1", ports_[2 * node]};
  }
  std::string client_url(std::size_t node) const {
    return fmt::format("http://127.0.0.1:{}", ports_[2 * node]);
  }
  std::string peer_url(std::size_t node) const {
    return fmt::format("http://127.0.0.1:{}", ports_[2 * node + 1]);
  }

  EtcdOptions options_;
  std::vector<std::uint16_t> ports_;  // client, peer for each node
};

}  // namespace

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(base64_size(bytes.size()));
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16 |
                      std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8 |
                      std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) n |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::unique_ptr<Cluster>> make_etcd_cluster(const EtcdOptions& options, std::string dir) {
  auto ports = free_loopback_ports(2 * kClusterNodes);
  if (!ports.is_ok()) return ports.status();
  return std::unique_ptr<Cluster>(new EtcdCluster(options, std::move(dir), std::move(*ports)));
}

}  // namespace spofless::bench
