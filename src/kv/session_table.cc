#include "kv/session_table.h"

#include "core/check.h"

namespace spofless::kv {

void SessionTable::open(std::uint64_t id, std::uint64_t now_ms) {
  SPOFLESS_CHECK(max_sessions_ > 0, "a session table holds at least one session");
  if (sessions_.size() >= max_sessions_) {
    auto idlest = by_activity_.begin();
    sessions_.erase(idlest->second);
    by_activity_.erase(idlest);
  }
  bool inserted = sessions_.emplace(id, Entry{0, now_ms, std::nullopt}).second;
  SPOFLESS_CHECK(inserted, "a session id is an entry's index, used once");
  by_activity_.emplace(now_ms, id);
}

void SessionTable::expire(std::uint64_t now_ms, std::uint64_t ttl_ms) {
  // Bounded by the number of sessions; each is dropped once.
  while (!by_activity_.empty()) {
    auto idlest = by_activity_.begin();
    if (idlest->first >= now_ms || now_ms - idlest->first <= ttl_ms) break;
    sessions_.erase(idlest->second);
    by_activity_.erase(idlest);
  }
}

const SessionTable::Entry* SessionTable::find(std::uint64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void SessionTable::touch(std::uint64_t id, std::uint64_t now_ms) {
  auto it = sessions_.find(id);
  SPOFLESS_CHECK(it != sessions_.end(), "touch() of a live session");
  SPOFLESS_CHECK(now_ms >= it->second.last_active_ms, "the log's time never runs backwards");
  by_activity_.erase({it->second.last_active_ms, id});
  it->second.last_active_ms = now_ms;
  by_activity_.emplace(now_ms, id);
}

void SessionTable::record(std::uint64_t id, std::uint64_t seq, Reply reply) {
  auto it = sessions_.find(id);
  SPOFLESS_CHECK(it != sessions_.end(), "record() in a live session");
  SPOFLESS_CHECK(seq > it->second.last_seq, "sequence numbers only grow");
  it->second.last_seq = seq;
  it->second.last_reply = std::move(reply);
}

void SessionTable::for_each(const std::function<void(std::uint64_t, const Entry&)>& f) const {
  for (const auto& [id, entry] : sessions_) f(id, entry);
}

void SessionTable::restore(std::uint64_t id, Entry entry) {
  SPOFLESS_CHECK(sessions_.size() < max_sessions_, "restore checks the session count");
  by_activity_.emplace(entry.last_active_ms, id);
  bool inserted = sessions_.emplace(id, std::move(entry)).second;
  SPOFLESS_CHECK(inserted, "a restored session is restored once");
}

}  // namespace spofless::kv
