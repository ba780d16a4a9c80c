#include "bench/db/cluster.h"

#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "bench/db/bench_limits.h"
#include "bench/db/interrupt.h"
#include "core/check.h"

namespace spofless::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Waits until `done()` holds, polling every kLeaderPollMs, until `timeout`. `done` returns ok
// to stop, or the reason it is not yet done (kept for the timeout's message); a failure that
// is not retryable ends the wait at once.
template <typename Poll>
Status poll_until(milliseconds timeout, std::string_view what, Poll done) {
  auto deadline = Clock::now() + timeout;
  Status last = unavailable("no answer yet");
  // Bounded by the deadline: every round takes at least kLeaderPollMs.
  while (true) {
    if (interrupted()) return unavailable(fmt::format("{}: interrupted", what));
    last = done();
    if (last.is_ok() || !last.retryable()) return last;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(milliseconds(kLeaderPollMs));
  }
  return {StatusCode::kDeadlineExceeded,
          fmt::format("{}: not within {} ms; last: {}", what, timeout.count(), last.message())};
}

}  // namespace

Cluster::Cluster(std::string dir, std::size_t nodes) : dir_(std::move(dir)), nodes_(nodes) {}

Cluster::~Cluster() { stop(); }

std::string Cluster::data_dir(std::size_t node) const {
  return fmt::format("{}/node{}", dir_, node + 1);
}

std::string Cluster::log_path(std::size_t node) const {
  return fmt::format("{}/node{}.log", dir_, node + 1);
}

Status Cluster::spawn(std::size_t node) {
  SPOFLESS_CHECK(node < nodes_.size() && !nodes_[node], "spawn a node that is not running");
  auto child = ChildProcess::spawn(node_argv(node), log_path(node));
  if (!child.is_ok()) {
    return unavailable(fmt::format("{} node {}: {}", name(), node + 1, child.status().message()));
  }
  nodes_[node].emplace(std::move(*child));
  return Status::ok();
}

Status Cluster::start() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir(i), ec);
    if (ec) return unavailable(fmt::format("mkdir {}: {}", data_dir(i), ec.message()));
    if (Status s = spawn(i); !s.is_ok()) return s;
  }
  return Status::ok();
}

Status Cluster::check_alive() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] && !nodes_[i]->running()) {
      Status dead = unavailable(fmt::format("{} node {} ended by itself ({}); see {}", name(),
                                            i + 1, nodes_[i]->ended_how(), log_path(i)));
      nodes_[i].reset();
      return dead;
    }
  }
  return Status::ok();
}

Result<std::size_t> Cluster::wait_leader(milliseconds timeout) {
  std::size_t leader = nodes_.size();
  Status s = poll_until(timeout, fmt::format("{}: wait for a leader", name()), [&]() -> Status {
    if (Status alive = check_alive(); !alive.is_ok()) {
      return {StatusCode::kFailedPrecondition, alive.message()};
    }
    Status last = unavailable("no node claims leadership");
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i]) continue;
      auto v = view(i);
      if (!v.is_ok()) {
        last = unavailable(fmt::format("node {}: {}", i + 1, v.status().message()));
      } else if (v->is_leader) {
        leader = i;
        return Status::ok();
      }
    }
    return last;
  });
  if (!s.is_ok()) return s;
  return leader;
}

Status Cluster::wait_following(std::size_t node, milliseconds timeout) {
  return poll_until(timeout, fmt::format("{} node {}: wait to rejoin", name(), node + 1),
                    [&]() -> Status {
                      if (Status alive = check_alive(); !alive.is_ok()) {
                        return {StatusCode::kFailedPrecondition, alive.message()};
                      }
                      auto v = view(node);
                      if (!v.is_ok()) return unavailable(v.status().message());
                      return v->knows_leader ? Status::ok() : unavailable("names no leader yet");
                    });
}

void Cluster::kill_node(std::size_t node) {
  SPOFLESS_CHECK(node < nodes_.size() && nodes_[node], "kill a running node");
  nodes_[node]->kill_now();
  nodes_[node].reset();
}

Status Cluster::restart_node(std::size_t node) { return spawn(node); }

void Cluster::stop() {
  for (auto& node : nodes_) {
    if (node) node->stop(milliseconds(kStopTimeoutMs));
    node.reset();
  }
}

double Cluster::cpu_seconds() const {
  double total = 0;
  for (const auto& node : nodes_) {
    if (node) total += node->cpu_seconds();
  }
  return total;
}

pid_t Cluster::pid(std::size_t node) const {
  SPOFLESS_CHECK(node < nodes_.size(), "a node of the cluster");
  return nodes_[node] ? nodes_[node]->pid() : -1;
}

}  // namespace spofless::bench
