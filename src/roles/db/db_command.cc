#include "roles/db/db_command.h"

#include <charconv>
#include <iostream>
#include <map>

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "client/resp_connection.h"
#include "io/address.h"
#include "obs/log.h"
#include "roles/common/server_runtime.h"
#include "roles/db/client_server.h"
#include "roles/db/node.h"

namespace spofless::roles {
namespace {

using raft::NodeId;
using tcp = boost::asio::ip::tcp;

constexpr const char* kDescription =
    "A Raft-replicated key-value server that speaks the Redis protocol (RESP2): run 3 or 5\n"
    "voters, each with its own --id, --data directory and addresses. A write is acknowledged\n"
    "once a majority has it on disk; reads are linearizable on any node (or stale, within\n"
    "--max-stale-ms, after READONLY). A leader crash elects a new leader within about one\n"
    "election timeout (--tick-ms x --election-ticks, randomized up to twice that).\n"
    "A restart with the same --data rejoins with its data. See docs/db.md.";

constexpr const char* kExamples =
    "\nExamples (a three-node cluster on one machine; run each line in its own terminal):\n"
    "  P=1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103\n"
    "  spofless db --id 1 --data /tmp/db1 --listen 127.0.0.1:6381 --peer-listen 127.0.0.1:7101 "
    "--peers $P --admin 127.0.0.1:8101\n"
    "  spofless db --id 2 --data /tmp/db2 --listen 127.0.0.1:6382 --peer-listen 127.0.0.1:7102 "
    "--peers $P --admin 127.0.0.1:8102\n"
    "  spofless db --id 3 --data /tmp/db3 --listen 127.0.0.1:6383 --peer-listen 127.0.0.1:7103 "
    "--peers $P --admin 127.0.0.1:8103\n"
    "  redis-cli -p 6381 SET greeting hello; redis-cli -p 6383 GET greeting\n"
    "  spofless db transfer-leader --to 2 --server 127.0.0.1:6381\n";

Result<std::map<NodeId, tcp::endpoint>> parse_peers(const std::string& text) {
  std::map<NodeId, tcp::endpoint> peers;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    std::size_t eq = item.find('=');
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + (eq == std::string::npos ? 0 : eq), id);
    if (eq == std::string::npos || ec != std::errc() || end != item.data() + eq || id == 0) {
      return invalid_argument(fmt::format(
          "--peers item '{}': expected ID=HOST:PORT with ID a positive integer", item));
    }
    auto endpoint = io::parse_listen_address(item.substr(eq + 1), fmt::format("--peers {}", id));
    if (!endpoint.is_ok()) return endpoint.status();
    if (!peers.emplace(NodeId{id}, *endpoint).second) {
      return invalid_argument(fmt::format("--peers names node {} twice", id));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (peers.size() > limits::kRaftMaxVoters) {
    return invalid_argument(fmt::format("--peers lists {} voters; at most {}", peers.size(),
                                        limits::kRaftMaxVoters));
  }
  return peers;
}

}  // namespace

DbCommand::DbCommand(CLI::App& app) {
  command_ = app.add_subcommand("db", kDescription);
  command_->footer(kExamples);
  auto& f = flags_;
  command_->add_option("--id", f.id, "This node's id, a positive integer unique in the cluster");
  command_->add_option("--data", f.data,
                       "Data directory (write-ahead log, snapshots); created if missing");
  command_->add_option("--listen", f.listen, "Client address HOST:PORT (RESP2, Redis clients)");
  command_->add_option("--peer-listen", f.peer_listen,
                       "Address HOST:PORT where the other nodes reach this one (Raft)");
  command_->add_option("--peers", f.peers,
                       "Every voter's peer address, this node's included: "
                       "1=HOST:PORT,2=HOST:PORT,3=HOST:PORT (the same list on every voter)");
  command_->add_option("--admin", f.admin, "Admin HTTP address: /health /ready /metrics /status");
  command_->add_flag("--learner", f.learner,
                     "Join an existing cluster as a non-voting learner (a read replica); "
                     "the leader adds it with `spofless db add-learner`");
  command_->add_option("--tick-ms", f.tick_ms, "Raft clock tick in milliseconds")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  command_->add_option("--election-ticks", f.election_ticks,
                       "Election timeout in ticks (randomized in [T, 2T))")
      ->check(CLI::Range(3, 1'000))
      ->capture_default_str();
  command_->add_option("--heartbeat-ticks", f.heartbeat_ticks,
                       "Leader heartbeat interval in ticks (below election-ticks / 2)")
      ->check(CLI::Range(1, 499))
      ->capture_default_str();
  command_->add_option("--read-mode", f.read_mode,
                       "Linearizable reads: readindex (a heartbeat round per batch; safe "
                       "whatever the clocks do) or lease (no round trip; needs bounded drift)")
      ->check(CLI::IsMember({"readindex", "lease"}))
      ->capture_default_str();
  command_->add_option("--snapshot-entries", f.snapshot_entries,
                       "Snapshot the state and compact the log every this many applied entries")
      ->check(CLI::Range(std::uint64_t{100}, std::uint64_t{100'000'000}))
      ->capture_default_str();
  command_->add_flag("--no-fsync", f.no_fsync,
                     "Do not fsync the log (UNSAFE: a power loss can lose acknowledged writes; "
                     "for tests on tmpfs only)");
  command_->add_flag("--auto-promote", f.auto_promote,
                     "As leader, promote a learner to voter once it has caught up");
  command_->add_option("--requirepass", f.requirepass, "Clients must AUTH with this password");
  command_->add_option("--max-stale-ms", f.max_stale_ms,
                       "READONLY reads are refused on a replica lagging more than this")
      ->capture_default_str();
  command_->add_option("--request-timeout-ms", f.request_timeout_ms,
                       "A request waiting longer (for a commit or a read index) is answered "
                       "-TRYAGAIN")
      ->check(CLI::Range(10, 600'000))
      ->capture_default_str();
  command_->add_option("--session-ttl-s", f.session_ttl_s,
                       "Exactly-once client sessions idle this long expire")
      ->check(CLI::Range(1, 30 * 24 * 3600))
      ->capture_default_str();
  add_log_options(*command_, log_);

  auto add_admin = [&](const char* name, const char* what, bool needs_node) {
    CLI::App* sub = command_->add_subcommand(name, what);
    sub->add_option("--server", admin_.server,
                    "Client address of any node; the command goes to the leader")
        ->capture_default_str();
    sub->add_option("--password", admin_.password, "The cluster's --requirepass");
    if (needs_node) {
      sub->add_option(std::string(name) == "transfer-leader" ? "--to,--node" : "--node,--to",
                      admin_.node, "The node id")
          ->required();
    }
    return sub;
  };
  transfer_ = add_admin("transfer-leader",
                        "Move leadership to a caught-up voter with no failed write", true);
  add_learner_ = add_admin("add-learner",
                           "Add a started `--learner` node as a non-voting member", true);
  promote_ = add_admin("promote", "Make a caught-up learner a voter", true);
  remove_ = add_admin("remove", "Remove a voter or learner (e.g. a dead node)", true);
  status_ = add_admin("status", "Print a node's status as JSON", false);
}

int DbCommand::run() {
  if (Status s = apply_log_options(log_, "db"); !s.is_ok()) {
    fmt::print(stderr, "spofless db: {}\n", s.message());
    return kExitUsage;
  }
  if (transfer_->parsed()) return run_admin("SPOFLESS.TRANSFER");
  if (add_learner_->parsed()) return run_admin("SPOFLESS.ADD-LEARNER");
  if (promote_->parsed()) return run_admin("SPOFLESS.PROMOTE");
  if (remove_->parsed()) return run_admin("SPOFLESS.REMOVE");
  if (status_->parsed()) return run_admin("SPOFLESS.STATUS");
  return run_server();
}

int DbCommand::run_admin(const std::string& command) {
  auto server = client::parse_host_port(admin_.server, "--server");
  if (!server.is_ok()) {
    fmt::print(stderr, "spofless db: {}\n", server.status().message());
    return kExitUsage;
  }
  std::vector<std::string> argv{command};
  if (command != "SPOFLESS.STATUS") argv.push_back(std::to_string(admin_.node));
  constexpr std::chrono::milliseconds kTimeout{5'000};
  // At most one redirect: a follower names the leader's address in its answer.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = client::RespConnection::connect(*server, kTimeout);
    if (!conn.is_ok()) {
      fmt::print(stderr, "spofless db: {}\n", conn.status().message());
      return kExitFindings;
    }
    if (!admin_.password.empty()) (void)(*conn)->call({"AUTH", admin_.password}, kTimeout);
    auto reply = (*conn)->call(argv, kTimeout);
    if (!reply.is_ok()) {
      fmt::print(stderr, "spofless db: {}\n", reply.status().message());
      return kExitFindings;
    }
    if (reply->kind != proto::RespValue::Kind::kError) {
      fmt::print("{}\n", reply->kind == proto::RespValue::Kind::kBulk ||
                                 reply->kind == proto::RespValue::Kind::kSimple
                             ? reply->str
                             : reply->to_string());
      return kExitOk;
    }
    std::size_t at = reply->str.rfind(" at ");
    if (reply->str.starts_with("TRYAGAIN not the leader") && at != std::string::npos) {
      auto leader = client::parse_host_port(reply->str.substr(at + 4), "leader");
      if (leader.is_ok()) {
        server = std::move(leader);
        continue;
      }
    }
    fmt::print(stderr, "spofless db: {}\n", reply->str);
    return kExitFindings;
  }
  fmt::print(stderr, "spofless db: the leader moved while the command was sent; run it again\n");
  return kExitFindings;
}

int DbCommand::run_server() {
  auto usage = [](std::string_view message) {
    fmt::print(stderr, "spofless db: {}\nRun `spofless db --help`.\n", message);
    return kExitUsage;
  };
  const ServerFlags& f = flags_;
  if (f.id == 0) return usage("--id is required (a positive integer)");
  for (auto [flag, value] : {std::pair{"--data", &f.data}, {"--listen", &f.listen},
                             {"--peer-listen", &f.peer_listen}, {"--peers", &f.peers},
                             {"--admin", &f.admin}}) {
    if (value->empty()) return usage(fmt::format("{} is required", flag));
  }
  if (f.heartbeat_ticks * 2 >= f.election_ticks) {
    return usage("--heartbeat-ticks must be below --election-ticks / 2");
  }
  auto peers = parse_peers(f.peers);
  if (!peers.is_ok()) return usage(peers.status().message());
  NodeId self{f.id};
  if (!f.learner && !peers->count(self)) {
    return usage(fmt::format("--peers must list this node ({}) unless it is a --learner", f.id));
  }
  auto listen = io::parse_listen_address(f.listen, "--listen");
  if (!listen.is_ok()) return usage(listen.status().message());
  auto peer_listen = io::parse_listen_address(f.peer_listen, "--peer-listen");
  if (!peer_listen.is_ok()) return usage(peer_listen.status().message());

  ServerRuntime runtime("db");
  if (Status s = runtime.start_admin(f.admin); !s.is_ok()) return usage(s.message());

  db::NodeOptions options;
  options.id = self;
  options.data_dir = f.data;
  options.peers = *peers;
  options.peer_listen = *peer_listen;
  options.learner = f.learner;
  options.tick = std::chrono::milliseconds(f.tick_ms);
  options.election_ticks = f.election_ticks;
  options.heartbeat_ticks = f.heartbeat_ticks;
  options.read_mode = f.read_mode == "lease" ? raft::ReadMode::kLease : raft::ReadMode::kReadIndex;
  options.snapshot_entries = f.snapshot_entries;
  options.fsync = !f.no_fsync;
  options.auto_promote = f.auto_promote;
  options.request_timeout = std::chrono::milliseconds(f.request_timeout_ms);
  options.session_ttl = std::chrono::seconds(f.session_ttl_s);
  db::Node node(runtime.io(), runtime.registry(), options);
  db::ClientServer clients(runtime.io(), runtime.registry(), node,
                           {f.requirepass, std::chrono::milliseconds(f.max_stale_ms)});
  // Bound first, so that the leader's address that followers forward to is the real one;
  // nothing is served before run().
  if (Status s = clients.listen(*listen); !s.is_ok()) return usage(s.message());
  options.client_address = clients.local_endpoint();
  node.set_client_address(options.client_address);
  if (Status s = node.start(); !s.is_ok()) {
    obs::error("db.start_failed", {{"error", s.to_string()}});
    fmt::print(stderr, "spofless db: {}\n", s.to_string());
    return kExitFindings;
  }
  node.set_forward_password(f.requirepass);

  runtime.set_ready_handler([&node](std::string_view query) {
    if (query.starts_with("lag=")) {
      std::uint64_t max_ms = 0;
      auto text = query.substr(4);
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), max_ms);
      if (ec != std::errc()) return io::Readiness::not_ready("lag= needs milliseconds");
      auto stale = node.staleness();
      if (stale && static_cast<std::uint64_t>(stale->count()) <= max_ms) {
        return io::Readiness::ready();
      }
      return io::Readiness::not_ready(
          stale ? fmt::format("lagging {} ms", stale->count()) : "no leader known");
    }
    if (node.can_read_linearizable()) return io::Readiness::ready();
    return io::Readiness::not_ready(node.leader() == raft::NodeId::kNone
                                        ? "no leader known"
                                        : "re-syncing a log that lost entries");
  });
  runtime.set_status_handler([&node] { return node.status(); });
  runtime.on_drain([&](std::function<void()> done) {
    clients.stop();
    node.drain([&node, done = std::move(done)] {
      node.stop();
      done();
    });
  });
  return runtime.run();
}

}  // namespace spofless::roles
