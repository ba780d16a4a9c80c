#include "kv/state_machine.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "core/check.h"
#include "kv/ascii.h"
#include "kv/glob.h"
#include "kv/integer.h"

namespace spofless::kv {
namespace {

// Redis's texts (t_string.c, object.c).
constexpr std::string_view kNotAnInteger = "ERR value is not an integer or out of range";
constexpr std::string_view kWouldOverflow = "ERR increment or decrement would overflow";

// Redis answers a write over its memory limit with an OOM error; ours is a key count.
Reply key_limit_error(std::size_t max_keys) {
  return Reply::error(
      fmt::format("OOM command not allowed: the database holds its limit of {} keys", max_keys));
}

Reply bulk_or_nil(const std::string* value) { return value ? Reply::bulk(*value) : Reply::nil(); }

}  // namespace

StateMachine::StateMachine(Options options)
    : options_(options), keys_(options.max_tombstones), sessions_(options.max_sessions) {
  SPOFLESS_CHECK(options_.max_sessions > 0, "a session table holds at least one session");
}

Reply StateMachine::apply(std::uint64_t index, std::string_view entry) {
  SPOFLESS_CHECK(index > applied_, "entries are applied once each, in log order");
  applied_ = index;
  auto command = decode(entry);
  if (!command) {
    return Reply::error(
        fmt::format("ERR log entry {} is not a command: {}", index, command.status().message()));
  }
  time_ms_ = std::max(time_ms_, command->now_ms);
  const std::uint64_t ttl_ms =
      command->session_ttl_ms == 0 ? limits::kKvDefaultSessionTtlMs : command->session_ttl_ms;
  sessions_.expire(time_ms_, ttl_ms);
  if (command->kind == CommandKind::kRegister) {
    sessions_.open(index, time_ms_);
    return Reply::number(static_cast<long long>(index));
  }
  if (command->session) return execute_sequenced(*command, index);
  return execute(*command, index);
}

void StateMachine::skip(std::uint64_t index) {
  SPOFLESS_CHECK(index > applied_, "entries are applied once each, in log order");
  applied_ = index;
}

// Raft thesis §6.3: a command already applied for this session is answered from the cache.
Reply StateMachine::execute_sequenced(const Command& command, std::uint64_t index) {
  const Session& session = *command.session;
  const SessionTable::Entry* entry = sessions_.find(session.client_id);
  if (entry == nullptr) {
    return Reply::error(fmt::format(
        "SESSIONEXPIRED client {} has no session (expired, evicted or never registered): "
        "register again",
        session.client_id));
  }
  sessions_.touch(session.client_id, time_ms_);
  if (session.seq < entry->last_seq) {
    return Reply::error("ERR session sequence number already acknowledged");
  }
  if (session.seq == entry->last_seq) return *entry->last_reply;
  Reply reply = execute(command, index);
  sessions_.record(session.client_id, session.seq, reply);
  return reply;
}

Reply StateMachine::execute(const Command& command, std::uint64_t index) {
  switch (command.kind) {
    case CommandKind::kWrite:
      return write(command.write, index);
    case CommandKind::kExec:
      return exec(command, index);
    case CommandKind::kRegister:
      break;
  }
  SPOFLESS_UNREACHABLE("apply() handles REGISTER before executing");
}

// Optimistic concurrency: abort when a watched key changed after its watch index, else apply
// every queued command at this one index. A command that fails leaves an error element and
// the others still apply, as in Redis.
Reply StateMachine::exec(const Command& command, std::uint64_t index) {
  for (const WatchedKey& watched : command.watched) {
    if (keys_.modified_after(watched.key, watched.watch_index)) return Reply::nil_array();
  }
  std::vector<Reply> replies;
  replies.reserve(command.transaction.size());
  for (const Op& op : command.transaction) {
    if (const auto* read_op = std::get_if<ReadOp>(&op)) {
      replies.push_back(read(*read_op));
    } else {
      replies.push_back(write(std::get<WriteOp>(op), index));
    }
  }
  return Reply::array(std::move(replies));
}

Reply StateMachine::write(const WriteOp& op, std::uint64_t index) {
  switch (op.kind) {
    case WriteKind::kSet:
      return set(op, index);
    case WriteKind::kDel:
      return del(op, index);
    case WriteKind::kIncrBy:
      return incr_by(op, index);
    case WriteKind::kMSet:
      return mset(op, index);
  }
  SPOFLESS_UNREACHABLE("every write kind is applied");
}

bool StateMachine::has_room_for(std::size_t added) const {
  return keys_.size() <= options_.max_keys && added <= options_.max_keys - keys_.size();
}

Reply StateMachine::set(const WriteOp& op, std::uint64_t index) {
  SPOFLESS_CHECK(op.keys.size() == 1 && op.values.size() == 1, "SET has one key and one value");
  const std::string* old = keys_.find(op.keys[0]);
  const bool present = old != nullptr;
  // Copied now: put() replaces the value `old` points to.
  Reply previous = op.reply == SetReply::kOldValue ? bulk_or_nil(old) : Reply::ok();
  const bool go = op.condition == SetCondition::kAlways ||
                  (op.condition == SetCondition::kIfAbsent && !present) ||
                  (op.condition == SetCondition::kIfPresent && present);
  if (!go) return op.reply == SetReply::kOldValue ? previous : Reply::nil();
  if (!present && !has_room_for(1)) {
    return key_limit_error(options_.max_keys);
  }
  keys_.put(op.keys[0], op.values[0], index);
  return previous;
}

Reply StateMachine::incr_by(const WriteOp& op, std::uint64_t index) {
  SPOFLESS_CHECK(op.keys.size() == 1, "INCRBY has one key");
  const std::string* old = keys_.find(op.keys[0]);
  std::int64_t value = 0;
  if (old != nullptr) {
    auto parsed = parse_int64(*old);
    if (!parsed) return Reply::error(std::string(kNotAnInteger));
    value = *parsed;
  } else if (!has_room_for(1)) {
    return key_limit_error(options_.max_keys);
  }
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if ((op.delta < 0 && value < 0 && op.delta < kMin - value) ||
      (op.delta > 0 && value > 0 && op.delta > kMax - value)) {
    return Reply::error(std::string(kWouldOverflow));
  }
  value += op.delta;
  keys_.put(op.keys[0], std::to_string(value), index);
  return Reply::number(value);
}

// Atomic: all keys are set, or (over the key limit) none.
Reply StateMachine::mset(const WriteOp& op, std::uint64_t index) {
  SPOFLESS_CHECK(!op.keys.empty() && op.keys.size() == op.values.size(),
                 "MSET has as many values as keys");
  std::set<std::string_view> added;
  for (const auto& key : op.keys) {
    if (keys_.find(key) == nullptr) added.insert(key);
  }
  if (!has_room_for(added.size())) {
    return key_limit_error(options_.max_keys);
  }
  for (std::size_t i = 0; i < op.keys.size(); ++i) keys_.put(op.keys[i], op.values[i], index);
  return Reply::ok();
}

Reply StateMachine::del(const WriteOp& op, std::uint64_t index) {
  long long deleted = 0;
  for (const auto& key : op.keys) deleted += keys_.erase(key, index) ? 1 : 0;
  return Reply::number(deleted);
}

Reply StateMachine::read(const ReadOp& op) const {
  const bool one_key =
      op.kind == ReadKind::kGet || op.kind == ReadKind::kType || op.kind == ReadKind::kStrLen;
  SPOFLESS_CHECK(!one_key || op.keys.size() == 1, "GET, TYPE and STRLEN have one key");
  switch (op.kind) {
    case ReadKind::kGet:
      return bulk_or_nil(keys_.find(op.keys[0]));
    case ReadKind::kMGet: {
      std::vector<Reply> values;
      values.reserve(op.keys.size());
      for (const auto& key : op.keys) values.push_back(bulk_or_nil(keys_.find(key)));
      return Reply::array(std::move(values));
    }
    case ReadKind::kExists: {
      long long found = 0;  // a key named twice counts twice, as in Redis
      for (const auto& key : op.keys) found += keys_.find(key) != nullptr ? 1 : 0;
      return Reply::number(found);
    }
    case ReadKind::kDbSize:
      return Reply::number(static_cast<long long>(keys_.size()));
    case ReadKind::kScan:
      return scan(op.scan);
    case ReadKind::kType:
      return Reply::status(keys_.find(op.keys[0]) != nullptr ? "string" : "none");
    case ReadKind::kStrLen: {
      const std::string* value = keys_.find(op.keys[0]);
      return Reply::number(value ? static_cast<long long>(value->size()) : 0);
    }
  }
  SPOFLESS_UNREACHABLE("every read kind is served");
}

Reply StateMachine::scan(const ScanArgs& args) const {
  std::optional<GlobPattern> glob;
  if (args.pattern && *args.pattern != "*") glob.emplace(*args.pattern);  // "*": Redis's shortcut
  // Every value is a string: TYPE string keeps all keys, any other type none.
  const bool type_ok = !args.type || equals_ignore_case(*args.type, "string");
  const auto count =
      static_cast<std::size_t>(std::min<std::uint64_t>(args.count, limits::kKvMaxScanCount));
  auto page = keys_.scan(args.cursor, count, [&](const std::string& key) {
    return type_ok && (!glob || glob->matches(key));
  });
  std::vector<Reply> keys;
  keys.reserve(page.keys.size());
  for (auto& key : page.keys) keys.push_back(Reply::bulk(std::move(key)));
  std::vector<Reply> reply;
  reply.push_back(Reply::bulk(std::to_string(page.cursor)));
  reply.push_back(Reply::array(std::move(keys)));
  return Reply::array(std::move(reply));
}

}  // namespace spofless::kv
