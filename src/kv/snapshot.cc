// StateMachine::snapshot() and restore(): the whole state as a kv.proto State message.

#include <limits>

#include <fmt/format.h>

#include "kv/kv.pb.h"
#include "kv/state_machine.h"

namespace spofless::kv {
namespace {

constexpr std::uint32_t kFormat = 1;

pb::ReplyKind to_pb(Reply::Kind kind) {
  switch (kind) {
    case Reply::Kind::kStatus:
      return pb::REPLY_STATUS;
    case Reply::Kind::kError:
      return pb::REPLY_ERROR;
    case Reply::Kind::kInteger:
      return pb::REPLY_INTEGER;
    case Reply::Kind::kBulk:
      return pb::REPLY_BULK;
    case Reply::Kind::kNil:
      return pb::REPLY_NIL;
    case Reply::Kind::kNilArray:
      return pb::REPLY_NIL_ARRAY;
    case Reply::Kind::kArray:
      return pb::REPLY_ARRAY;
  }
  SPOFLESS_UNREACHABLE("every reply kind has a wire value");
}

// Replies nest a few levels at most (EXEC > SCAN > keys); protobuf's parser bounds the depth
// of what it accepts at 100, so the recursion below is bounded too.
void to_pb(const Reply& reply, pb::Reply& out) {
  out.set_kind(to_pb(reply.kind));
  out.set_str(reply.str);
  out.set_integer(reply.integer);
  for (const Reply& element : reply.elements) to_pb(element, *out.add_elements());
}

Result<Reply> from_pb(const pb::Reply& in, const std::string& where) {
  Reply reply;
  switch (in.kind()) {
    case pb::REPLY_STATUS:
      reply.kind = Reply::Kind::kStatus;
      break;
    case pb::REPLY_ERROR:
      reply.kind = Reply::Kind::kError;
      break;
    case pb::REPLY_INTEGER:
      reply.kind = Reply::Kind::kInteger;
      break;
    case pb::REPLY_BULK:
      reply.kind = Reply::Kind::kBulk;
      break;
    case pb::REPLY_NIL:
      reply.kind = Reply::Kind::kNil;
      break;
    case pb::REPLY_NIL_ARRAY:
      reply.kind = Reply::Kind::kNilArray;
      break;
    case pb::REPLY_ARRAY:
      reply.kind = Reply::Kind::kArray;
      break;
    default:
      return invalid_argument(fmt::format("{}.kind: unknown reply kind {}", where, in.kind()));
  }
  if (reply.kind == Reply::Kind::kError &&
      (in.str().empty() || in.str()[0] < 'A' || in.str()[0] > 'Z')) {
    return invalid_argument(where + ".str: an error reply without its code word");
  }
  reply.str = in.str();
  reply.integer = in.integer();
  for (int i = 0; i < in.elements_size(); ++i) {
    auto element = from_pb(in.elements(i), fmt::format("{}.elements[{}]", where, i));
    if (!element) return element.status();
    reply.elements.push_back(std::move(*element));
  }
  return reply;
}

Status check_count(std::string_view field, int found, std::size_t limit) {
  if (static_cast<std::size_t>(found) <= limit) return Status::ok();
  return invalid_argument(
      fmt::format("snapshot.{}: {} entries exceed this server's limit of {}", field, found, limit));
}

Status check_version(const std::string& where, std::uint64_t version, std::uint64_t applied) {
  if (version >= 1 && version <= applied) return Status::ok();
  return invalid_argument(
      fmt::format("{}.version: {}, expected an index in 1..{} (applied)", where, version, applied));
}

// REQUIRES: `keys` is fresh and the counts are within its limits.
Status load_keys(const pb::State& in, Keyspace& keys) {
  keys.restore_horizon(in.horizon());
  for (int i = 0; i < in.keys_size(); ++i) {  // bounded by max_keys
    const pb::KeyValue& kv = in.keys(i);
    const std::string where = fmt::format("snapshot.keys[{}]", i);
    if (auto s = check_version(where, kv.version(), in.applied()); !s.is_ok()) return s;
    if (keys.find(kv.key()) != nullptr) return invalid_argument(where + ": duplicate key");
    keys.restore_live(kv.key(), kv.value(), kv.version());
  }
  for (int i = 0; i < in.tombstones_size(); ++i) {  // bounded by max_tombstones
    const pb::Tombstone& t = in.tombstones(i);
    const std::string where = fmt::format("snapshot.tombstones[{}]", i);
    if (auto s = check_version(where, t.version(), in.applied()); !s.is_ok()) return s;
    if (keys.find(t.key()) != nullptr || keys.has_tombstone(t.key())) {
      return invalid_argument(where + ": a key that is live or already buried");
    }
    keys.restore_tombstone(t.key(), t.version());
  }
  return Status::ok();
}

// REQUIRES: `sessions` is fresh and the count is within its limit.
Status load_sessions(const pb::State& in, SessionTable& sessions) {
  for (int i = 0; i < in.sessions_size(); ++i) {  // bounded by max_sessions
    const pb::ClientSession& s = in.sessions(i);
    const std::string where = fmt::format("snapshot.sessions[{}]", i);
    if (s.client_id() == 0 || s.client_id() > in.applied() || sessions.find(s.client_id())) {
      return invalid_argument(fmt::format(
          "{}.client_id: {} is 0, above the applied index or a duplicate", where, s.client_id()));
    }
    if (s.last_active_ms() > in.time_ms()) {
      return invalid_argument(fmt::format("{}.last_active_ms: {} after the state's time {}", where,
                                          s.last_active_ms(), in.time_ms()));
    }
    if (s.has_last_reply() != (s.last_seq() > 0)) {
      return invalid_argument(where + ": a last reply iff a last sequence number");
    }
    SessionTable::Entry entry{s.last_seq(), s.last_active_ms(), std::nullopt};
    if (s.has_last_reply()) {
      auto reply = from_pb(s.last_reply(), where + ".last_reply");
      if (!reply) return reply.status();
      entry.last_reply = std::move(*reply);
    }
    sessions.restore(s.client_id(), std::move(entry));
  }
  return Status::ok();
}

}  // namespace

std::string StateMachine::snapshot() const {
  pb::State state;
  state.set_format(kFormat);
  state.set_applied(applied_);
  state.set_time_ms(time_ms_);
  state.set_horizon(keys_.horizon());
  keys_.for_each_live([&](const std::string& key, const std::string& value, std::uint64_t v) {
    pb::KeyValue& out = *state.add_keys();
    out.set_key(key);
    out.set_value(value);
    out.set_version(v);
  });
  keys_.for_each_tombstone([&](const std::string& key, std::uint64_t v) {
    pb::Tombstone& out = *state.add_tombstones();
    out.set_key(key);
    out.set_version(v);
  });
  sessions_.for_each([&](std::uint64_t id, const SessionTable::Entry& entry) {
    pb::ClientSession& out = *state.add_sessions();
    out.set_client_id(id);
    out.set_last_seq(entry.last_seq);
    out.set_last_active_ms(entry.last_active_ms);
    if (entry.last_reply) to_pb(*entry.last_reply, *out.mutable_last_reply());
  });
  return state.SerializeAsString();
}

Status StateMachine::restore(std::string_view data) {
  pb::State in;
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !in.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return invalid_argument(
        fmt::format("snapshot: {} bytes that are not a protobuf State", data.size()));
  }
  if (in.format() != kFormat) {
    return invalid_argument(fmt::format("snapshot.format: {}, expected {}", in.format(), kFormat));
  }
  if (in.horizon() > in.applied()) {
    return invalid_argument(
        fmt::format("snapshot.horizon: {} above the applied index {}", in.horizon(), in.applied()));
  }
  for (const Status& s : {check_count("keys", in.keys_size(), options_.max_keys),
                          check_count("tombstones", in.tombstones_size(), options_.max_tombstones),
                          check_count("sessions", in.sessions_size(), options_.max_sessions)}) {
    if (!s.is_ok()) return s;
  }
  Keyspace keys(options_.max_tombstones);
  SessionTable sessions(options_.max_sessions);
  if (auto s = load_keys(in, keys); !s.is_ok()) return s;
  if (auto s = load_sessions(in, sessions); !s.is_ok()) return s;
  keys_ = std::move(keys);
  sessions_ = std::move(sessions);
  applied_ = in.applied();
  time_ms_ = in.time_ms();
  return Status::ok();
}

}  // namespace spofless::kv
