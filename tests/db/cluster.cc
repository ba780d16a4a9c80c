#include "db/cluster.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
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

// Where node ports are drawn from: below the kernel's ephemeral range (the default lower
// bound is 32768), so that no process's outgoing connection takes a node's port while that
// node is down for a restart. Read from the kernel when it says otherwise.
constexpr std::uint16_t kLowestPort = 10'000;
constexpr std::uint16_t kDefaultEphemeralLow = 32'768;
// Candidates tried per port wanted before giving up (most are free on a test machine).
constexpr std::size_t kPortAttemptsPerPort = 100;

std::uint16_t ephemeral_range_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0;
  if (!(in >> low) || low <= kLowestPort + 1000 || low > 65'535) return kDefaultEphemeralLow;
  return static_cast<std::uint16_t>(low);
}

// `count` distinct ports in [kLowestPort, ephemeral low) that were free on 127.0.0.1 a moment
// ago: drawn at random (so that test processes running at once rarely draw the same), each
// bound until all are found (so none repeats), then released for the nodes to bind.
Result<std::vector<std::uint16_t>> pick_free_ports(std::size_t count) {
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<unsigned> draw(kLowestPort, ephemeral_range_low() - 1u);
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  for (std::size_t attempt = 0; attempt < count * kPortAttemptsPerPort && ports.size() < count;
       ++attempt) {
    auto port = static_cast<std::uint16_t>(draw(random));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      ports.push_back(port);
      fds.push_back(fd);
    } else {
      close(fd);  // in use (or in TIME_WAIT): draw another
    }
  }
  for (int fd : fds) close(fd);
  if (ports.size() < count) {
    return unavailable(fmt::format("found {} of {} free ports on 127.0.0.1 in [{}, {}): {}",
                                   ports.size(), count, kLowestPort, ephemeral_range_low(),
                                   std::strerror(errno)));
  }
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
    cluster->nodes_.push_back(
        cluster->make_node(static_cast<int>(i + 1), *ports, i * kPortsPerNode));
  }
  for (Node& n : cluster->nodes_) {
    if (Status s = cluster->spawn(n); !s.is_ok()) return s;
  }
  return cluster;
}

Cluster::Node Cluster::make_node(int id, const std::vector<std::uint16_t>& ports,
                                 std::size_t first) {
  Node n;
  n.id = id;
  n.client = {"127.0.0.1", ports[first]};
  n.peer = {"127.0.0.1", ports[first + 1]};
  n.admin = {boost::asio::ip::address_v4::loopback(), ports[first + 2]};
  n.data = dir_ / fmt::format("node-{}", n.id);
  n.log = dir_ / fmt::format("node-{}.log", n.id);
  std::filesystem::create_directories(n.data);
  return n;
}

Result<int> Cluster::start_learner() {
  SPOFLESS_CHECK(nodes_.size() < kMaxNodes, "at most 9 nodes");
  auto ports = pick_free_ports(kPortsPerNode);
  if (!ports.is_ok()) return ports.status();
  Node n = make_node(static_cast<int>(nodes_.size() + 1), *ports, 0);
  n.learner = true;
  nodes_.push_back(std::move(n));
  if (Status s = spawn(nodes_.back()); !s.is_ok()) return s;
  return nodes_.back().id;
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
    if (other.learner) continue;
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
  if (n.learner) args.push_back("--learner");
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

Result<test_support::HttpResponse> Cluster::admin_get(int id, std::string_view target) const {
  return test_support::http_get(node(id).admin, target, kStatusTimeout);
}

Result<nlohmann::json> Cluster::role_status(int id) const {
  auto res = admin_get(id, "/status");
  if (!res.is_ok()) return res.status();
  auto json = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200 || !json.is_object() || !json["role_status"].is_object()) {
    return unavailable(fmt::format("node {} /status: {} {}", id, res->status, res->body));
  }
  return json["role_status"];
}

Result<NodeStatus> Cluster::status(int id) const {
  auto json = role_status(id);
  if (!json.is_ok()) return json.status();
  const nlohmann::json& role = *json;
  NodeStatus s;
  s.id = id;
  s.role = role.value("role", "");
  s.leader = role.value("leader", 0);
  s.term = role.value("term", std::uint64_t{0});
  s.commit = role.value("commit", std::uint64_t{0});
  s.applied = role.value("applied", std::uint64_t{0});
  if (role.contains("voters") && role["voters"].is_array()) {
    for (const nlohmann::json& v : role["voters"]) {
      if (v.is_number_integer()) s.voters.push_back(v.get<int>());
    }
  }
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
          // A majority of the voters in the leader's membership (learners do not count).
          auto agree = std::count_if(all.begin(), all.end(), [&](const NodeStatus& o) {
            return o.leader == n.id &&
                   std::find(n.voters.begin(), n.voters.end(), o.id) != n.voters.end();
          });
          if (!n.voters.empty() && static_cast<std::size_t>(agree) >= n.voters.size() / 2 + 1) {
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

Result<test_support::ExitStatus> Cluster::terminate(int id, milliseconds timeout) {
  Node& n = node(id);
  SPOFLESS_CHECK(running(id) && !n.paused, "terminate() a running node");
  if (Status s = n.process->send_signal(SIGTERM); !s.is_ok()) return s;
  return n.process->wait_for_exit(timeout);
}

Status Cluster::restart(int id) {
  SPOFLESS_CHECK(!running(id), "restart() a killed node");
  return spawn(node(id));
}

bool Cluster::running(int id) const {
  const Node& n = node(id);
  return n.process != nullptr && !n.process->reaped();
}

std::string Cluster::log_text(int id) const {
  std::ifstream in(node(id).log, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
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
    std::string state = !running(n.id)                 ? "down"
                        : n.process->exited_unreaped() ? "EXITED by itself"
                        : n.paused                     ? "paused"
                                                       : "running";
    out += fmt::format("--- node {} ({}, {}), last {} lines ---\n", n.id, state, n.log.string(),
                       tail.size());
    for (const std::string& line : tail) out += fmt::format("[node {}] {}\n", n.id, line);
  }
  return out;
}

}  // namespace spofless::db_test
