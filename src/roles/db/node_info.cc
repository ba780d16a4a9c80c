// What a Node tells about itself: /status, INFO's replication section, the leader's address.

#include <fmt/format.h>

#include "io/address.h"
#include "io/peer_transport.h"
#include "roles/db/node.h"

namespace spofless::db {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t id_of(raft::NodeId id) { return static_cast<std::uint64_t>(id); }

std::string_view role_name(const raft::Raft& raft, raft::NodeId self) {
  if (raft.role() == raft::Role::kLeader) return "leader";
  if (raft.membership().is_learner(self)) return "learner";
  switch (raft.role()) {
    case raft::Role::kPreCandidate:
    case raft::Role::kCandidate:
      return "candidate";
    default:
      return "follower";
  }
}

}  // namespace

std::optional<boost::asio::ip::tcp::endpoint> Node::leader_client_address() const {
  if (!raft_ || raft_->leader() == raft::NodeId::kNone) return std::nullopt;
  if (raft_->leader() == options_.id) return options_.client_address;
  return transport_->advertised_client(raft_->leader());
}

nlohmann::json Node::status() const {
  nlohmann::json j;
  j["id"] = id_of(options_.id);
  if (!raft_) return j;
  j["role"] = role_name(*raft_, options_.id);
  j["leader"] = id_of(raft_->leader());
  j["term"] = raft_->term().value;
  j["commit"] = raft_->log().committed().value;
  j["applied"] = state_.applied();
  j["last_index"] = raft_->log().last_index().value;
  j["snapshot_index"] = raft_->snapshot().index.value;
  j["log_lost"] = raft_->log_lost();
  j["keys"] = state_.size();
  if (auto s = staleness()) j["staleness_ms"] = s->count();
  nlohmann::json voters = nlohmann::json::array();
  nlohmann::json learners = nlohmann::json::array();
  for (raft::NodeId id : raft_->membership().voters) voters.push_back(id_of(id));
  for (raft::NodeId id : raft_->membership().learners) learners.push_back(id_of(id));
  j["voters"] = voters;
  j["learners"] = learners;
  nlohmann::json followers = nlohmann::json::array();
  auto now = Clock::now();
  for (const raft::FollowerProgress& p : raft_->progress()) {
    auto caught = follower_caught_up_at_.find(p.id);
    std::int64_t lag_ms = 0;
    if (p.entries_behind > 0 && caught != follower_caught_up_at_.end()) {
      lag_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - caught->second).count();
    }
    followers.push_back({{"id", id_of(p.id)},
                         {"match", p.match.value},
                         {"lag_entries", p.entries_behind},
                         {"lag_ms", lag_ms},
                         {"ms_since_contact", p.ticks_since_contact * options_.tick.count()},
                         {"replicating", p.replicating},
                         {"learner", p.learner}});
  }
  j["followers"] = followers;
  if (transport_) j["peers"] = transport_->status();
  return j;
}

std::string Node::info_replication() const {
  std::string out = "# Replication\r\n";
  if (!raft_) return out;
  bool leader = is_leader();
  out += fmt::format("role:{}\r\n", leader ? "master" : "slave");
  if (leader) {
    auto followers = status()["followers"];
    out += fmt::format("connected_slaves:{}\r\n", followers.size());
    std::size_t i = 0;
    for (const auto& f : followers) {
      out += fmt::format("slave{}:id={},state={},offset={},lag={},lag_entries={},lag_ms={}\r\n",
                         i++, f["id"].get<std::uint64_t>(),
                         f["replicating"].get<bool>() ? "online" : "wait_bgsave",
                         f["match"].get<std::uint64_t>(), f["lag_ms"].get<std::int64_t>() / 1000,
                         f["lag_entries"].get<std::uint64_t>(), f["lag_ms"].get<std::int64_t>());
    }
  } else {
    auto at = leader_client_address();
    out += fmt::format("master_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\n",
                       at ? at->address().to_string() : "", at ? at->port() : 0,
                       raft_->leader() != raft::NodeId::kNone ? "up" : "down");
    auto stale = staleness();
    out += fmt::format("master_last_io_seconds_ago:{}\r\n",
                       stale ? stale->count() / 1000 : -1);
    out += fmt::format("slave_read_only:1\r\nslave_repl_offset:{}\r\n", state_.applied());
  }
  out += fmt::format(
      "spofless_node_id:{}\r\nspofless_leader_id:{}\r\nspofless_term:{}\r\n"
      "spofless_commit_index:{}\r\nspofless_applied_index:{}\r\nspofless_log_lost:{}\r\n",
      id_of(options_.id), id_of(raft_->leader()), raft_->term().value,
      raft_->log().committed().value, state_.applied(), raft_->log_lost() ? 1 : 0);
  return out;
}

std::string Node::info_server_extra() const {
  return fmt::format("tcp_port:{}\r\nspofless_role:{}", options_.client_address.port(),
                     raft_ ? role_name(*raft_, options_.id) : "starting");
}

}  // namespace spofless::db
