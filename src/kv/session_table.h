#pragma once

// The exactly-once client sessions of the Raft thesis, §6.3: per client, the last sequence
// number applied and its reply, so that a retried command is answered without being applied
// twice. Sessions expire after a TTL of inactivity measured in the log's own (leader-stamped)
// time, and the least recently active is evicted when the table is full: the same decisions
// on every replica.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "kv/reply.h"

namespace spofless::kv {

// Thread: owned by its StateMachine; single-threaded.
class SessionTable {
 public:
  struct Entry {
    std::uint64_t last_seq = 0;  // 0 until the first sequenced command
    std::uint64_t last_active_ms = 0;
    std::optional<Reply> last_reply;  // set iff last_seq > 0

    bool operator==(const Entry&) const = default;
  };

  explicit SessionTable(std::size_t max_sessions) : max_sessions_(max_sessions) {}

  // Opens session `id`, active at `now_ms`, evicting the least recently active one (the
  // smallest id among equals) when the table is full. REQUIRES: `id` is new.
  void open(std::uint64_t id, std::uint64_t now_ms);
  // Drops every session idle for more than `ttl_ms` at `now_ms`.
  void expire(std::uint64_t now_ms, std::uint64_t ttl_ms);

  // The session, or null when it never existed, expired or was evicted.
  const Entry* find(std::uint64_t id) const;
  // REQUIRES: find(id). `now_ms` is never below the session's last activity.
  void touch(std::uint64_t id, std::uint64_t now_ms);
  // REQUIRES: find(id), seq > its last_seq.
  void record(std::uint64_t id, std::uint64_t seq, Reply reply);

  std::size_t size() const { return sessions_.size(); }
  void for_each(const std::function<void(std::uint64_t, const Entry&)>& f) const;
  // REQUIRES: `id` not restored yet, and fewer than max_sessions restored.
  void restore(std::uint64_t id, Entry entry);

 private:
  std::size_t max_sessions_;
  std::map<std::uint64_t, Entry> sessions_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_activity_;  // (last_active_ms, id)
};

}  // namespace spofless::kv
