#include "db/cluster.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <thread>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/check.h"
#include "io/address.h"
#include "support/http_client.h"

namespace spofless::db_test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kBinary = SPOFLESS_BINARY;
// A stopped or overloaded node must not stall a poll for long; the next poll asks again.
constexpr milliseconds kStatusTimeout{1000};
// Between two looks at a condition that a cluster reaches by itself (an election, a catch-up).
constexpr milliseconds kPollInterval{50};
constexpr milliseconds kReapTimeout{10'000};
// Ports a cluster needs per node: client, peer, admin.
constexpr std::size_t kPortsPerNode = 3;
constexpr std::size_t kMaxNodes = 9;

// `count` distinct ports that were free on 127.0.0.1 a moment ago: all are bound at once (so
// none repeats), then released for the nodes to bind.
Result<std::vector<std::uint16_t>> pick_free_ports(std::size_t count) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  Status failed;
  for (std::size_t i = 0; i < count && failed.is_ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      failed = unavailable(fmt::format("picking a free port: {}", std::strerror(errno)));
    } else {
      ports.push_back(ntohs(addr.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  if (!failed.is_ok()) return failed;
  return ports;
}

Result<std::filesystem::path> make_temp_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "spofless-db-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return unavailable(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
  }
  return std::filesystem::path(pattern);
}

}  // namespace

Result<std::unique_ptr<Cluster>> Cluster::start(const ClusterOptions& options) {
  SPOFLESS_CHECK(options.nodes >= 1 && options.nodes <= kMaxNodes, "1..9 voters");
  auto ports = pick_free_ports(options.nodes * kPortsPerNode);
  if (!ports.is_ok()) return ports.status();
  auto dir = make_temp_dir();
  if (!dir.is_ok()) return dir.status();
  std::unique_ptr<Cluster> cluster(new Cluster(options, *dir));
  for (std::size_t i = 0; i < options.nodes; ++i) {
    Node n;
    n.id = static_cast<int>(i + 1);
    n.client = {"127.0.0.1", (*ports)[i * kPortsPerNode]};
    n.peer = {"127.0.0.1", (*ports)[i * kPortsPerNode + 1]};
    n.admin = {boost::asio::ip::address_v4::loopback(), (*ports)[i * kPortsPerNode + 2]};
    n.data = *dir / fmt::format("node-{}", n.id);
    n.log = *dir / fmt::format("node-{}.log", n.id);
    std::filesystem::create_directories(n.data);
    cluster->nodes_.push_back(std::move(n));
  }
  for (Node& n : cluster->nodes_) {
    if (Status s = cluster->spawn(n); !s.is_ok()) return s;
  }
  return cluster;
}

Cluster::~Cluster() {
  nodes_.clear();  // kills and reaps every process before its directory goes
  if (std::getenv("SPOFLESS_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<client::HostPort> Cluster::client_addresses(int first) const {
  std::vector<client::HostPort> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    out.push_back(nodes_[(static_cast<std::size_t>(first - 1) + i) % nodes_.size()].client);
  }
  return out;
}

client::DbClientOptions Cluster::client_options(int first) const {
  client::DbClientOptions options;
  options.nodes = client_addresses(first);
  options.seed = static_cast<std::uint64_t>(first);
  return options;
}

const Cluster::Node& Cluster::node(int id) const {
  SPOFLESS_CHECK(id >= 1 && static_cast<std::size_t>(id) <= nodes_.size(), "ids are 1..size()");
  return nodes_[static_cast<std::size_t>(id - 1)];
}

Cluster::Node& Cluster::node(int id) {
  return const_cast<Node&>(static_cast<const Cluster*>(this)->node(id));
}

std::vector<std::string> Cluster::arguments(const Node& n) const {
  std::string peers;
  for (const Node& other : nodes_) {
    peers += fmt::format("{}{}={}", peers.empty() ? "" : ",", other.id, other.peer.to_string());
  }
  // Flag and value pairs, one pair per line.
  // clang-format off
  std::vector<std::string> args = {"db",
                                   "--id", std::to_string(n.id),
                                   "--data", n.data.string(),
                                   "--listen", n.client.to_string(),
                                   "--peer-listen", n.peer.to_string(),
                                   "--peers", peers,
                                   "--admin", io::to_string(n.admin),
                                   "--tick-ms", std::to_string(options_.tick_ms),
                                   "--election-ticks", std::to_string(options_.election_ticks)};
  // clang-format on
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

Status Cluster::spawn(Node& n) {
  auto process = NodeProcess::spawn(kBinary, arguments(n), n.log);
  if (!process.is_ok()) return process.status();
  n.process = std::move(*process);
  n.paused = false;
  return Status::ok();
}

Result<NodeStatus> Cluster::status(int id) const {
  auto res = test_support::http_get(node(id).admin, "/status", kStatusTimeout);
  if (!res.is_ok()) return res.status();
  auto json = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200 || !json.is_object() || !json["role_status"].is_object()) {
    return unavailable(fmt::format("node {} /status: {} {}", id, res->status, res->body));
  }
  const nlohmann::json& role = json["role_status"];
  NodeStatus s;
  s.id = id;
  s.role = role.value("role", "");
  s.leader = role.value("leader", 0);
  s.term = role.value("term", std::uint64_t{0});
  s.commit = role.value("commit", std::uint64_t{0});
  s.applied = role.value("applied", std::uint64_t{0});
  return s;
}

std::vector<NodeStatus> Cluster::statuses() const {
  std::vector<NodeStatus> out;
  for (const Node& n : nodes_) {
    if (!running(n.id) || n.paused) continue;
    if (auto s = status(n.id); s.is_ok()) out.push_back(*s);
  }
  return out;
}

Status Cluster::wait_until(const std::function<Result<bool>()>& done, milliseconds timeout,
                           const std::string& what) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string last = "not checked yet";
  for (;;) {
    Result<bool> now = done();
    if (now.is_ok() && *now) return Status::ok();
    if (!now.is_ok()) last = now.status().message();
    if (Clock::now() >= deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("{}: not within {} ms (last: {})", what, timeout.count(), last));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Result<int> Cluster::wait_for_leader(milliseconds timeout, int not_id) {
  int found = 0;
  Status s = wait_until(
      [&]() -> Result<bool> {
        std::vector<NodeStatus> all = statuses();
        std::uint64_t newest = 0;
        for (const NodeStatus& n : all) newest = std::max(newest, n.term);
        for (const NodeStatus& n : all) {
          if (n.role != "leader" || n.term != newest || n.id == not_id) continue;
          auto agree = std::count_if(all.begin(), all.end(),
                                     [&](const NodeStatus& o) { return o.leader == n.id; });
          if (static_cast<std::size_t>(agree) >= nodes_.size() / 2 + 1) {
            found = n.id;
            return true;
          }
        }
        return unavailable(
            fmt::format("{} nodes answered, newest term {}, no agreed leader", all.size(), newest));
      },
      timeout, not_id == 0 ? "a leader" : fmt::format("a leader other than node {}", not_id));
  if (!s.is_ok()) return s;
  return found;
}

Status Cluster::wait_for_leader_to_be(int id, milliseconds timeout) {
  return wait_until(
      [&]() -> Result<bool> {
        auto leader = wait_for_leader(kStatusTimeout);
        if (!leader.is_ok()) return leader.status();
        return *leader == id;
      },
      timeout, fmt::format("node {} as the leader", id));
}

Status Cluster::wait_for_convergence(milliseconds timeout) {
  std::optional<std::uint64_t> target;  // the leader's commit index when all first agreed
  return wait_until(
      [&]() -> Result<bool> {
        std::vector<NodeStatus> all = statuses();
        std::size_t expected = static_cast<std::size_t>(
            std::count_if(nodes_.begin(), nodes_.end(),
                          [this](const Node& n) { return running(n.id) && !n.paused; }));
        if (all.size() != expected) {
          return unavailable(fmt::format("{} of {} running nodes answered", all.size(), expected));
        }
        int leader = all.front().leader;
        for (const NodeStatus& n : all) {
          if (n.leader != leader || leader == 0) {
            return unavailable(fmt::format("node {} names leader {}, node {} names {}",
                                           all.front().id, leader, n.id, n.leader));
          }
          if (n.id == leader && !target) target = n.commit;
        }
        if (!target) return unavailable(fmt::format("leader {} did not answer", leader));
        for (const NodeStatus& n : all) {
          if (n.applied < *target) {
            return unavailable(fmt::format("node {} applied {} of {}", n.id, n.applied, *target));
          }
        }
        return true;
      },
      timeout, "every running node following one leader and caught up");
}

Status Cluster::kill(int id) {
  Node& n = node(id);
  SPOFLESS_CHECK(running(id), "kill() a running node");
  n.paused = false;
  return n.process->kill_and_reap(kReapTimeout);
}

Status Cluster::pause(int id) {
  Node& n = node(id);
  SPOFLESS_CHECK(running(id) && !n.paused, "pause() a running node");
  if (Status s = n.process->send_signal(SIGSTOP); !s.is_ok()) return s;
  n.paused = true;
  return Status::ok();
}

Status Cluster::resume(int id) {
  Node& n = node(id);
  SPOFLESS_CHECK(running(id) && n.paused, "resume() a paused node");
  if (Status s = n.process->send_signal(SIGCONT); !s.is_ok()) return s;
  n.paused = false;
  return Status::ok();
}

Status Cluster::restart(int id) {
  SPOFLESS_CHECK(!running(id), "restart() a killed node");
  return spawn(node(id));
}

bool Cluster::running(int id) const {
  const Node& n = node(id);
  return n.process != nullptr && !n.process->reaped();
}

std::string Cluster::logs(std::size_t max_lines) const {
  std::string out;
  for (const Node& n : nodes_) {
    std::ifstream in(n.log);
    std::deque<std::string> tail;
    for (std::string line; std::getline(in, line);) {
      tail.push_back(std::move(line));
      if (tail.size() > max_lines) tail.pop_front();
    }
    out += fmt::format("--- node {} ({}), last {} lines ---\n", n.id, n.log.string(), tail.size());
    for (const std::string& line : tail) out += fmt::format("[node {}] {}\n", n.id, line);
  }
  return out;
}

}  // namespace spofless::db_test
