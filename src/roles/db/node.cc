#include "roles/db/node.h"

#include <algorithm>
#include <set>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "io/address.h"
#include "io/peer_transport.h"
#include "obs/log.h"
#include "roles/db/forwarder.h"
#include "roles/db/replies.h"
#include "storage/disk_storage.h"

namespace spofless::db {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using raft::NodeId;

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string id_label(NodeId id) { return std::to_string(static_cast<std::uint64_t>(id)); }

// The fsync p99 is judged over this many recent fsyncs, and a slow disk is warned about at
// most once per kSlowFsyncWarningInterval.
constexpr std::size_t kFsyncWindow = 1000;
constexpr double kSlowFsyncP99Seconds = 0.010;  // etcd warns at the same figure
constexpr std::chrono::seconds kSlowFsyncWarningInterval{10};

}  // namespace

struct Node::Metrics {
  explicit Metrics(obs::Registry& r)
      : leader_changes(r.counter("spofless_db_leader_changes_total",
                                 "Times this node saw the leader change (including to none).")),
        proposals(r.counter("spofless_db_proposals_total", "Writes proposed on this node.")),
        forwarded(r.counter("spofless_db_writes_forwarded_total",
                            "Writes a follower forwarded to the leader.")),
        shed(r.counter("spofless_db_requests_shed_total",
                       "Requests refused with -BUSY because a queue was full.")),
        no_leader(r.counter("spofless_db_requests_no_leader_total",
                            "Requests refused with -TRYAGAIN while no leader was known.")),
        timeouts(r.counter("spofless_db_requests_timed_out_total",
                           "Requests that waited past the request timeout.")),
        reads(r.counter("spofless_db_linearizable_reads_total", "Linearizable reads served.")),
        stale_reads(r.counter("spofless_db_stale_reads_total", "READONLY reads served.")),
        applied_entries(r.counter("spofless_db_applied_entries_total", "Log entries applied.")),
        snapshots(r.counter("spofless_db_snapshots_total", "Snapshots taken or installed.")),
        term(r.gauge("spofless_db_term", "The current Raft term.")),
        is_leader(r.gauge("spofless_db_is_leader", "1 on the leader, 0 elsewhere.")),
        commit(r.gauge("spofless_db_commit_index", "The commit index known here.")),
        applied(r.gauge("spofless_db_applied_index", "The index applied to the state machine.")),
        keys(r.gauge("spofless_db_keys", "Keys in the state machine.")),
        log_lost(r.gauge("spofless_db_log_lost",
                         "1 while this node re-syncs a log that lost entries to corruption.")),
        fsync(r.histogram("spofless_wal_fsync_seconds", "WAL fsync latency.",
                          {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1})),
        ready_batch(r.histogram("spofless_db_ready_entries", "Entries persisted per fsync.",
                                {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024})) {}

  obs::Counter& leader_changes;
  obs::Counter& proposals;
  obs::Counter& forwarded;
  obs::Counter& shed;
  obs::Counter& no_leader;
  obs::Counter& timeouts;
  obs::Counter& reads;
  obs::Counter& stale_reads;
  obs::Counter& applied_entries;
  obs::Counter& snapshots;
  obs::Gauge& term;
  obs::Gauge& is_leader;
  obs::Gauge& commit;
  obs::Gauge& applied;
  obs::Gauge& keys;
  obs::Gauge& log_lost;
  obs::Histogram& fsync;
  obs::Histogram& ready_batch;
  // The fsync p99 warning (etcd's "slow fdatasync"): a window of recent fsyncs.
  std::deque<double> recent_fsync_seconds;
  Clock::time_point last_slow_warning{};
};

namespace {

// Slow fsyncs are the commonest cause of election storms in etcd and Consul: a leader that
// cannot persist in time misses heartbeats. Warns when the recent p99 passes 10 ms.
void warn_if_fsync_slow(Node::Metrics& m) {
  auto now = Clock::now();
  if (m.recent_fsync_seconds.size() < 100 || now - m.last_slow_warning < kSlowFsyncWarningInterval) {
    return;
  }
  std::vector<double> sorted(m.recent_fsync_seconds.begin(), m.recent_fsync_seconds.end());
  std::size_t k = sorted.size() * 99 / 100;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k), sorted.end());
  if (sorted[k] <= kSlowFsyncP99Seconds) return;
  m.last_slow_warning = now;
  obs::warn("wal.fsync_slow", {{"p99_ms", sorted[k] * 1000},
                               {"fsyncs", sorted.size()},
                               {"hint", "a slow disk delays heartbeats and causes elections"}});
}

}  // namespace

Node::Node(asio::io_context& io, obs::Registry& registry, NodeOptions options)
    : io_(io),
      registry_(registry),
      options_(std::move(options)),
      random_(options_.seed != 0 ? options_.seed
                                 : static_cast<std::uint64_t>(options_.id) * 0x9e3779b97f4a7c15ULL ^
                                       static_cast<std::uint64_t>(
                                           Clock::now().time_since_epoch().count())),
      ticker_(io),
      metrics_(std::make_unique<Metrics>(registry)) {}

Node::~Node() { stop(); }

Status Node::start() {
  raft::PersistentState disk;
  storage::RecoveryReport report;
  storage::StorageOptions storage_options;
  storage_options.fsync = options_.fsync;
  auto opened = storage::DiskStorage::open(options_.data_dir, storage_options, disk, report);
  if (!opened.is_ok()) return opened.status();
  storage_ = std::move(*opened);
  storage_->on_fsync([this](std::chrono::nanoseconds d) {
    double seconds = std::chrono::duration<double>(d).count();
    metrics_->fsync.observe(seconds);
    auto& recent = metrics_->recent_fsync_seconds;
    recent.push_back(seconds);
    if (recent.size() > kFsyncWindow) recent.pop_front();
    warn_if_fsync_slow(*metrics_);
  });
  if (report.torn_bytes_truncated > 0) {
    obs::warn("wal.torn_tail_truncated", {{"bytes", report.torn_bytes_truncated}});
  }
  if (!report.snapshot_problem.empty()) {
    obs::warn("snapshot.corrupt", {{"problem", report.snapshot_problem}});
  }
  if (report.corrupt) {
    obs::error("wal.corrupt", {{"problem", report.corruption},
                               {"action", "serving nothing from the lost entries; re-syncing "
                                          "from the leader without a vote until caught up"}});
  }
  if (disk.snapshot.index.value > 0) {
    if (Status s = state_.restore(disk.snapshot.data); !s.is_ok()) {
      return Status(StatusCode::kDataLoss, fmt::format("snapshot at index {} does not load: {}",
                                           disk.snapshot.index.value, s.message()));
    }
    last_snapshot_index_ = disk.snapshot.index.value;
  }
  // A commit index beyond what survived on disk (a truncated tail) is only a hint.
  raft::LogIndex last = disk.entries.empty() ? disk.snapshot.index : disk.entries.back().index;
  disk.hard_state.commit = std::min(disk.hard_state.commit, last);
  disk.hard_state.commit = std::max(disk.hard_state.commit, disk.snapshot.index);

  raft::Config config;
  config.id = options_.id;
  if (!options_.learner) {
    for (const auto& [id, endpoint] : options_.peers) config.voters.push_back(id);
  }
  config.election_timeout_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.read_mode = options_.read_mode;
  config.log_lost = report.log_lost;
  obs::info("db.recovered", {{"snapshot_index", disk.snapshot.index.value},
                             {"entries", disk.entries.size()},
                             {"term", disk.hard_state.term.value},
                             {"log_lost", report.log_lost}});
  raft_ = std::make_unique<raft::Raft>(std::move(config), std::move(disk), random_);

  io::PeerTransportOptions transport_options;
  transport_options.self = options_.id;
  for (const auto& [id, endpoint] : options_.peers) {
    if (id != options_.id) transport_options.peers[id] = endpoint;
  }
  transport_options.advertise_peer = options_.peer_listen;
  transport_options.advertise_client = options_.client_address;
  transport_ = std::make_unique<io::PeerTransport>(
      io_, registry_, std::move(transport_options),
      [this](raft::Message m) { on_message(std::move(m)); });
  // A member this node was not configured with (a learner added later) makes itself known by
  // dialing in; from then on this node can send to it.
  transport_->on_hello([this](NodeId) { update_peers(); });
  if (Status s = transport_->listen(options_.peer_listen); !s.is_ok()) return s;
  forwarder_ = std::make_unique<Forwarder>(io_, registry_, options_.request_timeout);
  update_peers();
  schedule_tick();
  schedule_ready();
  return Status();
}

void Node::set_forward_password(std::string password) {
  forwarder_->set_password(std::move(password));
}

void Node::drain(std::function<void()> done) {
  std::optional<raft::FollowerProgress> best;
  if (is_leader()) {
    for (const raft::FollowerProgress& p : raft_->progress()) {
      if (p.learner) continue;
      if (!best || p.match > best->match) best = p;
    }
  }
  if (!best || !transfer_leadership(best->id).is_ok()) return done();
  drained_ = std::move(done);
  drain_deadline_ = Clock::now() + options_.tick * options_.election_ticks;
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  wal_thread_.join();  // a save in progress finishes; its answer is dropped
  ticker_.cancel();
  if (forwarder_) forwarder_->stop();
  if (transport_) transport_->stop();
}

void Node::schedule_tick() {
  ticker_.expires_after(options_.tick);
  ticker_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    on_tick();
    schedule_tick();
  });
}

void Node::on_tick() {
  raft_->tick();
  if (drained_ && (!is_leader() || Clock::now() >= drain_deadline_)) {
    obs::info("db.drained", {{"leader", id_label(raft_->leader())}});
    std::exchange(drained_, nullptr)();
    return;
  }
  if (is_leader()) {
    auto now = Clock::now();
    // A leader is its own leader contact: once deposed, its staleness counts from here.
    last_leader_contact_ = now;
    leader_commit_seen_ = std::max(leader_commit_seen_, raft_->log().committed().value);
    for (const raft::FollowerProgress& p : raft_->progress()) {
      auto [it, inserted] = follower_caught_up_at_.try_emplace(p.id, now);
      if (p.entries_behind == 0) it->second = now;
    }
  } else {
    follower_caught_up_at_.clear();
  }
  expire_requests();
  maybe_promote_learners();
  schedule_ready();
}

void Node::on_message(raft::Message m) {
  if (stopped_) return;
  bool from_leader = m.type == raft::MessageType::kAppend ||
                     m.type == raft::MessageType::kHeartbeat ||
                     m.type == raft::MessageType::kSnapshot;
  raft_->step(m);
  if (from_leader && raft_->leader() == m.from && m.term == raft_->term()) {
    last_leader_contact_ = Clock::now();
    leader_commit_seen_ = std::max(leader_commit_seen_, m.commit.value);
  }
  schedule_ready();
}

void Node::schedule_ready() {
  if (ready_scheduled_ || stopped_) return;
  ready_scheduled_ = true;
  asio::post(io_, [this] {
    ready_scheduled_ = false;
    if (!stopped_) process_ready();
  });
}

// One Ready at a time: its messages go out at once (the leader's appends travel while its
// own disk works), its persistence runs on the WAL thread, and the rest waits for that fsync
// in finish_ready(). Meanwhile this thread keeps stepping messages and taking proposals, so the
// next Ready carries everything that arrived during the fsync: group commit that grows with
// the load.
void Node::process_ready() {
  if (persisting_ || stopped_) return;
  if (!raft_->has_ready()) return after_ready();
  auto rd = std::make_shared<raft::Ready>(raft_->ready());
  for (raft::Message& m : rd->messages) transport_->send(std::move(m));
  rd->messages.clear();
  if (!rd->hard_state && !rd->snapshot && rd->entries.empty()) return finish_ready(*rd);
  if (!rd->entries.empty()) metrics_->ready_batch.observe(static_cast<double>(rd->entries.size()));
  persisting_ = true;
  asio::post(wal_thread_, [this, rd, alive = alive_] {
    Status saved = storage_->save(*rd);
    asio::post(io_, [this, rd, alive, saved] {
      if (!*alive) return;
      persisting_ = false;
      if (!saved.is_ok()) {
        // Nothing from this Ready may be acknowledged: the disk did not take it. Carrying on
        // could vote or ack what is not durable, so the process stops (a supervisor restarts
        // it, and recovery reads back what did reach the disk).
        obs::error("wal.write_failed", {{"error", saved.to_string()}});
        SPOFLESS_CHECK(false, "write-ahead log write failed; stopping rather than lying");
      }
      finish_ready(*rd);
    });
  });
}

void Node::finish_ready(raft::Ready& rd) {
  for (raft::Message& m : rd.messages_after_persist) transport_->send(std::move(m));
  if (rd.snapshot) {
    if (Status s = state_.restore(rd.snapshot->data); !s.is_ok()) {
      obs::error("snapshot.load_failed", {{"index", rd.snapshot->index.value},
                                          {"error", s.to_string()}});
      SPOFLESS_CHECK(false, "a leader's snapshot did not load");
    }
    last_snapshot_index_ = rd.snapshot->index.value;
    metrics_->snapshots.inc();
    obs::info("snapshot.installed", {{"index", rd.snapshot->index.value}});
  }
  for (const raft::Entry& e : rd.committed) apply(e);
  for (raft::ReadState& rs : rd.read_states) {
    std::uint64_t batch = std::stoull(rs.context);
    auto it = asked_reads_.find(batch);
    if (it == asked_reads_.end()) continue;
    for (PendingRead& r : it->second) confirmed_reads_.emplace(rs.index.value, std::move(r));
    asked_reads_.erase(it);
  }
  raft_->advance(rd);
  after_ready();
}

// What follows every Ready: reads, compaction, the re-sync's end, metrics; and the next Ready.
void Node::after_ready() {
  if (raft_->log().committed().value <= state_.applied()) caught_up_at_ = Clock::now();
  if (raft_->leader() != last_leader_) after_leader_change();
  // Raft leaves the lost state only once the re-synced log is durable; the marker goes then,
  // and only while this thread owns the storage (otherwise the next Ready's end does it).
  if (!persisting_ && storage_->log_lost() && !raft_->log_lost()) {
    if (Status s = storage_->clear_log_lost(); !s.is_ok()) {
      // The marker stays, which is safe (a restart re-syncs again), and the storage refuses
      // every write after a failed one, so the next Ready stops the process as any disk
      // failure does.
      obs::error("wal.write_failed", {{"error", s.to_string()}});
    } else {
      obs::info("db.resynced", {{"applied", state_.applied()}});
    }
  }
  serve_reads();
  request_read_index();
  maybe_compact();
  metrics_->term.set(static_cast<double>(raft_->term().value));
  metrics_->is_leader.set(is_leader() ? 1 : 0);
  metrics_->commit.set(static_cast<double>(raft_->log().committed().value));
  metrics_->applied.set(static_cast<double>(state_.applied()));
  metrics_->keys.set(static_cast<double>(state_.size()));
  metrics_->log_lost.set(raft_->log_lost() ? 1 : 0);
  if (raft_->has_ready()) schedule_ready();
}

void Node::apply(const raft::Entry& e) {
  metrics_->applied_entries.inc();
  std::uint64_t index = e.index.value;
  std::optional<kv::Reply> reply;
  if (e.type == raft::EntryType::kNormal) {
    reply = state_.apply(index, e.data);
  } else {
    state_.skip(index);  // keeps applied() in step with the log
    if (e.type == raft::EntryType::kMembership) update_peers();
  }
  if (auto it = writes_.find(index); it != writes_.end()) {
    // The entry at this index is ours only if it has the term we proposed it in; otherwise a
    // new leader overwrote it and our write was never applied.
    if (it->second.term == e.term && reply) {
      it->second.done(encode_reply(*reply));
    } else {
      it->second.done(error_reply("TRYAGAIN the write was lost in a leader change; retry it"));
    }
    writes_.erase(it);
  }
  if (auto it = changes_.find(index); it != changes_.end()) {
    it->second(e.type == raft::EntryType::kMembership
                   ? status_reply("OK")
                   : error_reply("TRYAGAIN the change was lost in a leader change; retry it"));
    changes_.erase(it);
  }
}

void Node::write(kv::Command command, Done done) {
  if (is_leader()) return propose_here(std::move(command), std::move(done));
  std::optional<asio::ip::tcp::endpoint> to = leader_client_address();
  if (!to) {
    metrics_->no_leader.inc();
    return done(error_reply("TRYAGAIN no leader elected yet; retry shortly"));
  }
  metrics_->forwarded.inc();
  forwarder_->forward(*to, kv::encode(command), std::move(done));
}

void Node::propose_here(kv::Command command, Done done) {
  if (writes_.size() >= limits::kDbMaxPendingWrites) {
    metrics_->shed.inc();
    return done(error_reply("BUSY too many writes waiting for commit; retry later"));
  }
  // Leader-stamped time and session lifetime: every replica expires sessions alike.
  command.now_ms = wall_ms();
  command.session_ttl_ms = static_cast<std::uint64_t>(options_.session_ttl.count());
  raft::Term term = raft_->term();
  auto index = raft_->propose(kv::encode(command));
  if (!index.is_ok()) {
    bool shed = index.status().code() == StatusCode::kResourceExhausted;
    (shed ? metrics_->shed : metrics_->no_leader).inc();
    return done(error_reply(fmt::format("{} {}", shed ? "BUSY" : "TRYAGAIN",
                                        index.status().message())));
  }
  metrics_->proposals.inc();
  writes_.emplace(index->value,
                  PendingWrite{term, std::move(done), Clock::now() + options_.request_timeout});
  schedule_ready();
}

void Node::read(kv::ReadOp op, Done done) {
  if (!can_read_linearizable()) {
    metrics_->no_leader.inc();
    return done(error_reply(raft_->log_lost() ? "TRYAGAIN this replica is re-syncing its log"
                                      : "TRYAGAIN no leader elected yet; retry shortly"));
  }
  if (unasked_reads_.size() + confirmed_reads_.size() >= limits::kDbMaxPendingReads) {
    metrics_->shed.inc();
    return done(error_reply("BUSY too many reads waiting; retry later"));
  }
  unasked_reads_.push_back({std::move(op), std::move(done), Clock::now() + options_.request_timeout});
  schedule_ready();
}

void Node::request_read_index() {
  if (unasked_reads_.empty()) return;
  std::uint64_t batch = next_read_batch_;
  if (!raft_->read_index(std::to_string(batch)).is_ok()) return;  // retried on the next tick
  ++next_read_batch_;
  asked_reads_.emplace(batch, std::move(unasked_reads_));
  unasked_reads_.clear();
}

void Node::serve_reads() {
  std::uint64_t applied = state_.applied();
  while (!confirmed_reads_.empty() && confirmed_reads_.begin()->first <= applied) {
    PendingRead r = std::move(confirmed_reads_.begin()->second);
    confirmed_reads_.erase(confirmed_reads_.begin());
    metrics_->reads.inc();
    r.done(encode_reply(state_.read(r.op)));
  }
}

void Node::read_stale(const kv::ReadOp& op, std::chrono::milliseconds max_stale, Done done) {
  auto stale = staleness();
  if (!stale || *stale > max_stale) {
    return done(error_reply(fmt::format(
        "TRYAGAIN this replica lags {} (limit {} ms); read from another or without READONLY",
        stale ? fmt::format("{} ms", stale->count()) : std::string("an unknown time"),
        max_stale.count())));
  }
  metrics_->stale_reads.inc();
  done(encode_reply(state_.read(op)));
}

std::uint64_t Node::watch_index() const { return state_.watch_index(); }

void Node::expire_requests() {
  auto now = Clock::now();
  // Answers `done` with `message` once `deadline` has passed; true when it did. Each
  // erase_if calls its predicate once per element, so every expired request is answered once.
  auto expired = [&](Clock::time_point deadline, const Done& done, std::string_view message) {
    if (deadline > now) return false;
    metrics_->timeouts.inc();
    done(error_reply(message));
    return true;
  };
  std::erase_if(writes_, [&](auto& entry) {
    return expired(entry.second.deadline, entry.second.done,
                   "TRYAGAIN write timed out; its outcome is unknown");
  });
  auto read_expired = [&](const PendingRead& r) {
    return expired(r.deadline, r.done, "TRYAGAIN read timed out; retry");
  };
  std::erase_if(unasked_reads_, read_expired);
  for (auto& [batch, reads] : asked_reads_) std::erase_if(reads, read_expired);
  std::erase_if(asked_reads_, [](const auto& batch) { return batch.second.empty(); });
  std::erase_if(confirmed_reads_, [&](auto& entry) { return read_expired(entry.second); });
}

void Node::maybe_compact() {
  if (persisting_) return;  // the WAL thread owns the storage until its save returns
  std::uint64_t applied = state_.applied();
  if (applied < last_snapshot_index_ + options_.snapshot_entries) return;
  std::string data = state_.snapshot();
  if (Status s = raft_->compact(raft::LogIndex{applied}, std::move(data)); !s.is_ok()) {
    obs::warn("snapshot.skipped", {{"index", applied}, {"reason", s.to_string()}});
    return;
  }
  if (Status s = storage_->save_snapshot(raft_->snapshot()); !s.is_ok()) {
    obs::error("snapshot.write_failed", {{"index", applied}, {"error", s.to_string()}});
    return;
  }
  last_snapshot_index_ = applied;
  metrics_->snapshots.inc();
  obs::info("snapshot.taken", {{"index", applied}, {"bytes", raft_->snapshot().data.size()}});
}

void Node::maybe_promote_learners() {
  if (!options_.auto_promote || !is_leader() || !changes_.empty()) return;
  for (const raft::FollowerProgress& p : raft_->progress()) {
    if (!p.learner || p.entries_behind > limits::kRaftMaxEntriesPerAppend) continue;
    auto index = raft_->propose_membership({raft::ConfChange::Kind::kAddVoter, p.id});
    if (index.is_ok()) {
      obs::info("membership.promoting", {{"node", id_label(p.id)}, {"index", index->value}});
      changes_.emplace(index->value, [](std::string) {});
    }
    return;  // one change at a time
  }
}

void Node::after_leader_change() {
  NodeId leader = raft_->leader();
  metrics_->leader_changes.inc();
  obs::info("db.leader_changed", {{"leader", id_label(leader)},
                                  {"previous", id_label(last_leader_)},
                                  {"term", raft_->term().value},
                                  {"self", leader == options_.id}});
  last_leader_ = leader;
  // Reads asked of the previous leader never complete: ask the new one.
  for (auto& [batch, reads] : asked_reads_) {
    for (PendingRead& r : reads) unasked_reads_.push_back(std::move(r));
  }
  asked_reads_.clear();
}

// Sends go to the members of the membership in force. A joining learner knows no membership
// until the leader's log reaches it, so until then it dials the voters of --peers, which
// tells them its address (the hello) and lets the leader reach it.
void Node::update_peers() {
  const raft::Membership& m = raft_->membership();
  std::set<NodeId> members(m.voters.begin(), m.voters.end());
  members.insert(m.learners.begin(), m.learners.end());
  if (members.empty()) {
    for (const auto& [id, endpoint] : options_.peers) members.insert(id);
  }
  std::map<NodeId, asio::ip::tcp::endpoint> peers;
  for (NodeId id : members) {
    if (id == options_.id) continue;
    if (auto ep = transport_->peer_address(id)) peers[id] = *ep;
  }
  transport_->set_peers(std::move(peers));
}

Status Node::transfer_leadership(NodeId to) {
  Status s = raft_->transfer_leadership(to);
  if (s.is_ok()) obs::info("db.transfer_started", {{"to", id_label(to)}});
  schedule_ready();
  return s;
}

void Node::change_membership(raft::ConfChange change, Done done) {
  auto index = raft_->propose_membership(change);
  if (!index.is_ok()) {
    return done(error_reply(fmt::format("TRYAGAIN {}", index.status().message())));
  }
  changes_.emplace(index->value, std::move(done));
  schedule_ready();
}

bool Node::is_leader() const { return raft_ && raft_->role() == raft::Role::kLeader; }
NodeId Node::leader() const { return raft_ ? raft_->leader() : NodeId::kNone; }
std::size_t Node::dbsize() const { return state_.size(); }

bool Node::can_read_linearizable() const {
  return raft_ && raft_->leader() != NodeId::kNone && !raft_->log_lost();
}

std::optional<std::chrono::milliseconds> Node::staleness() const {
  if (!raft_ || raft_->log_lost()) return std::nullopt;
  if (is_leader()) return std::chrono::milliseconds{0};
  // A follower cut off from the leader still knows how old its state is: from the last
  // contact, whether or not it has given up on that leader yet.
  if (last_leader_contact_ == Clock::time_point{}) return std::nullopt;  // never heard one
  auto now = Clock::now();
  // Fresh while the leader is heard and everything it said committed is applied here.
  if (state_.applied() >= leader_commit_seen_) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - last_leader_contact_);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - caught_up_at_);
}

}  // namespace spofless::db
