// Register clients: each has at most one operation outstanding, on a random member. Writes go
// through the leader's log and are answered when that leader applies them; reads go through
// read_index on any member (leader, follower or learner) and are answered from its state
// machine once it has applied the read index. Every operation lands in the history that the
// linearizability checker reads, with an unknown outcome if its deadline passed.

#include <fmt/format.h>

#include "sim/simulation.h"

namespace spofless::sim {

namespace {

// A forwarded read request, or its answer, may be lost: a client still waiting for its read to
// be confirmed asks again this often, well within its deadline.
constexpr std::uint64_t kAskAgainTicks = 8;

}  // namespace

void Simulation::run_clients(bool calm) {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    Client& c = clients_[i];
    if (c.outstanding &&
        static_cast<std::int64_t>(now_) > c.outstanding->call + o_.op_deadline_ticks) {
      // Deadline: the outcome is unknown (a write may still commit later).
      const Op& op = *c.outstanding;
      event(fmt::format("client {} gave up on {} {} at n{}: {}", i, check::to_string(op.kind),
                        op.id, number(op.node), describe(op.node)));
      if (calm && op.call > static_cast<std::int64_t>(o_.chaos_ticks + o_.calm_ticks / 3)) {
        fail(fmt::format("liveness: client {} op {} timed out after the network healed", i, op.id));
      }
      record(op, std::nullopt, std::nullopt);
      ++result_.counts.ops_unknown;
      c.outstanding.reset();
      c.next_at = now_ + random_.uniform(1, 10);
    }
    if (c.outstanding) {
      ask_again(*c.outstanding);
    } else if (now_ >= c.next_at) {
      start_op(i);
    }
  }
}

// Starts an operation on a random member of the committed membership (a write is redirected to
// the leader that member names); a server that cannot take it (crashed, not the leader for a
// write, no leader known for a read) means another try next tick.
void Simulation::start_op(std::size_t client) {
  Client& c = clients_[client];
  const Membership& m = committed_membership();
  std::vector<NodeId> members(m.voters.begin(), m.voters.end());
  members.insert(members.end(), m.learners.begin(), m.learners.end());
  Op op;
  op.client = client;
  op.kind = chance(0.5) ? check::OpKind::kWrite : check::OpKind::kRead;
  op.key = fmt::format("k{}", random_.uniform(0, o_.keys - 1));
  op.node = members[random_.uniform(0, members.size() - 1)];
  op.call = static_cast<std::int64_t>(now_);
  c.next_at = now_ + 1;
  const raft::Raft* asked = nodes_.at(op.node).raft.get();
  if (!asked) return;
  if (op.kind == check::OpKind::kWrite && asked->leader() != NodeId::kNone) {
    op.node = asked->leader();  // a follower names the leader: redirected
  }
  Node& n = nodes_.at(op.node);
  if (!n.raft) return;
  op.id = next_op_id_;
  if (op.kind == check::OpKind::kWrite) {
    op.value = fmt::format("c{}-{}", client, c.sequence + 1);
    if (n.raft->role() != Role::kLeader || !n.raft->propose(encode_write(op)).is_ok()) return;
    ++c.sequence;
  } else {
    if (!n.raft->read_index(std::to_string(op.id)).is_ok()) return;
    n.reads_asked.insert(op.id);
    op.ask_again_at = now_ + kAskAgainTicks;
  }
  ++next_op_id_;
  c.outstanding = std::move(op);
}

void Simulation::ask_again(Op& op) {
  if (op.kind != check::OpKind::kRead || now_ < op.ask_again_at) return;
  op.ask_again_at = now_ + kAskAgainTicks;
  Node& n = nodes_.at(op.node);
  // A crash forgot the read: it can only time out.
  if (!n.raft || !n.reads_asked.count(op.id)) return;
  // Refused (no leader known, too many pending): the next ask, or the deadline, deals with it.
  (void)n.raft->read_index(std::to_string(op.id));
}

void Simulation::take_read_states(NodeId id, const std::vector<raft::ReadState>& states) {
  Node& n = nodes_.at(id);
  for (const raft::ReadState& rs : states) {
    std::uint64_t op = std::stoull(rs.context);
    if (n.reads_asked.erase(op)) n.reads_confirmed.push_back({rs.index, op});
  }
}

void Simulation::serve_reads(NodeId id) {
  Node& n = nodes_.at(id);
  std::erase_if(n.reads_confirmed, [&](const ConfirmedRead& read) {
    if (read.index > n.applied) return false;
    for (Client& c : clients_) {
      if (!c.outstanding || c.outstanding->id != read.op || c.outstanding->node != id) continue;
      auto value = n.kv.find(c.outstanding->key);
      finish_op(c, value == n.kv.end() ? std::nullopt : std::optional(value->second));
      ++result_.counts.reads_ok;
    }
    return true;
  });
}

// Adds an operation to the history: returned at `returned` (unset: outcome unknown), having
// read `read_value` if it is a read.
void Simulation::record(const Op& op, std::optional<std::int64_t> returned,
                        std::optional<std::string> read_value) {
  std::optional<std::string> value =
      op.kind == check::OpKind::kWrite ? std::optional<std::string>(op.value) : read_value;
  history_.push_back(check::Operation{op.client, op.kind, op.key, value, op.call, returned});
}

void Simulation::finish_op(Client& c, std::optional<std::string> read_value) {
  record(*c.outstanding, static_cast<std::int64_t>(now_), read_value);
  ++result_.counts.ops_ok;
  c.outstanding.reset();
  c.next_at = now_ + random_.uniform(0, 5);
}

}  // namespace spofless::sim
