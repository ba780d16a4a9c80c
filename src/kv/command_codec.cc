// encode() and decode() of Commands: the C++ types <-> kv.proto, with decode() checking
// every shape rule that classify() guarantees, so that apply() may rely on them.

#include <limits>

#include <fmt/format.h>

#include "kv/command.h"
#include "kv/kv.pb.h"

namespace spofless::kv {
namespace {

using limits::kKvMaxCommandArgs;

pb::ReadKind to_pb(ReadKind kind) {
  switch (kind) {
    case ReadKind::kGet:
      return pb::READ_GET;
    case ReadKind::kMGet:
      return pb::READ_MGET;
    case ReadKind::kExists:
      return pb::READ_EXISTS;
    case ReadKind::kDbSize:
      return pb::READ_DBSIZE;
    case ReadKind::kScan:
      return pb::READ_SCAN;
    case ReadKind::kType:
      return pb::READ_TYPE;
    case ReadKind::kStrLen:
      return pb::READ_STRLEN;
  }
  SPOFLESS_UNREACHABLE("every read kind has a wire value");
}

pb::WriteKind to_pb(WriteKind kind) {
  switch (kind) {
    case WriteKind::kSet:
      return pb::WRITE_SET;
    case WriteKind::kDel:
      return pb::WRITE_DEL;
    case WriteKind::kIncrBy:
      return pb::WRITE_INCR_BY;
    case WriteKind::kMSet:
      return pb::WRITE_MSET;
  }
  SPOFLESS_UNREACHABLE("every write kind has a wire value");
}

pb::SetCondition to_pb(SetCondition condition) {
  switch (condition) {
    case SetCondition::kAlways:
      return pb::SET_ALWAYS;
    case SetCondition::kIfAbsent:
      return pb::SET_IF_ABSENT;
    case SetCondition::kIfPresent:
      return pb::SET_IF_PRESENT;
  }
  SPOFLESS_UNREACHABLE("every SET condition has a wire value");
}

pb::CommandKind to_pb(CommandKind kind) {
  switch (kind) {
    case CommandKind::kWrite:
      return pb::COMMAND_WRITE;
    case CommandKind::kExec:
      return pb::COMMAND_EXEC;
    case CommandKind::kRegister:
      return pb::COMMAND_REGISTER;
  }
  SPOFLESS_UNREACHABLE("every command kind has a wire value");
}

void fill(const ReadOp& op, pb::ReadOp& out) {
  out.set_kind(to_pb(op.kind));
  for (const auto& key : op.keys) out.add_keys(key);
  if (op.kind != ReadKind::kScan) return;
  out.set_cursor(op.scan.cursor);
  if (op.scan.pattern) out.set_pattern(*op.scan.pattern);
  out.set_count(op.scan.count);
  if (op.scan.type) out.set_type(*op.scan.type);
}

void fill(const WriteOp& op, pb::WriteOp& out) {
  out.set_kind(to_pb(op.kind));
  for (const auto& key : op.keys) out.add_keys(key);
  for (const auto& value : op.values) out.add_values(value);
  out.set_delta(op.delta);
  out.set_condition(to_pb(op.condition));
  out.set_reply_old_value(op.reply == SetReply::kOldValue);
}

void fill_transaction(const Command& command, pb::Command& out) {
  for (const Op& op : command.transaction) {
    pb::Op& o = *out.add_transaction();
    if (const auto* read = std::get_if<ReadOp>(&op)) {
      fill(*read, *o.mutable_read());
    } else {
      fill(std::get<WriteOp>(op), *o.mutable_write());
    }
  }
  for (const WatchedKey& w : command.watched) {
    pb::WatchedKey& o = *out.add_watched();
    o.set_key(w.key);
    o.set_watch_index(w.watch_index);
  }
}

// How many keys (or values) an operation takes: exactly n, or at least n.
enum class Count : std::uint8_t { kExactly, kAtLeast };

Status check_count(std::string_view where, std::string_view what, std::size_t found, std::size_t n,
                   Count count) {
  const bool exact = count == Count::kExactly;
  if (found > kKvMaxCommandArgs) {
    return invalid_argument(
        fmt::format("{}: {} {} exceed the limit of {}", where, found, what, kKvMaxCommandArgs));
  }
  if (exact ? found != n : found < n) {
    return invalid_argument(
        fmt::format("{}: {} {}, expected {}{}", where, found, what, exact ? "" : "at least ", n));
  }
  return Status::ok();
}

std::vector<std::string> strings(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return {in.begin(), in.end()};
}

Result<ReadOp> from_pb(const pb::ReadOp& in, const std::string& where) {
  ReadOp op;
  std::size_t keys = 0;
  Count count = Count::kExactly;
  switch (in.kind()) {
    case pb::READ_GET:
      op.kind = ReadKind::kGet;
      keys = 1;
      break;
    case pb::READ_MGET:
      op.kind = ReadKind::kMGet;
      keys = 1;
      count = Count::kAtLeast;
      break;
    case pb::READ_EXISTS:
      op.kind = ReadKind::kExists;
      keys = 1;
      count = Count::kAtLeast;
      break;
    case pb::READ_DBSIZE:
      op.kind = ReadKind::kDbSize;
      break;
    case pb::READ_SCAN:
      op.kind = ReadKind::kScan;
      break;
    case pb::READ_TYPE:
      op.kind = ReadKind::kType;
      keys = 1;
      break;
    case pb::READ_STRLEN:
      op.kind = ReadKind::kStrLen;
      keys = 1;
      break;
    default:
      return invalid_argument(fmt::format("{}.kind: unknown read kind {}", where, in.kind()));
  }
  if (auto s = check_count(where + ".keys", "keys", in.keys_size(), keys, count); !s.is_ok()) {
    return s;
  }
  op.keys = strings(in.keys());
  if (op.kind == ReadKind::kScan) {
    if (in.count() == 0) return invalid_argument(where + ".count: 0, expected at least 1");
    op.scan.cursor = in.cursor();
    op.scan.count = in.count();
    if (in.has_pattern()) op.scan.pattern = in.pattern();
    if (in.has_type()) op.scan.type = in.type();
  }
  return op;
}

Result<WriteOp> from_pb(const pb::WriteOp& in, const std::string& where) {
  WriteOp op;
  op.delta = in.delta();
  op.reply = in.reply_old_value() ? SetReply::kOldValue : SetReply::kOk;
  switch (in.condition()) {
    case pb::SET_ALWAYS:
      op.condition = SetCondition::kAlways;
      break;
    case pb::SET_IF_ABSENT:
      op.condition = SetCondition::kIfAbsent;
      break;
    case pb::SET_IF_PRESENT:
      op.condition = SetCondition::kIfPresent;
      break;
    default:
      return invalid_argument(
          fmt::format("{}.condition: unknown SET condition {}", where, in.condition()));
  }
  std::size_t keys = 1;
  std::size_t values = 0;
  Count count = Count::kExactly;
  switch (in.kind()) {
    case pb::WRITE_SET:
      op.kind = WriteKind::kSet;
      values = 1;
      break;
    case pb::WRITE_DEL:
      op.kind = WriteKind::kDel;
      count = Count::kAtLeast;
      break;
    case pb::WRITE_INCR_BY:
      op.kind = WriteKind::kIncrBy;
      break;
    case pb::WRITE_MSET:
      op.kind = WriteKind::kMSet;
      count = Count::kAtLeast;
      break;
    default:
      return invalid_argument(fmt::format("{}.kind: unknown write kind {}", where, in.kind()));
  }
  if (auto s = check_count(where + ".keys", "keys", in.keys_size(), keys, count); !s.is_ok()) {
    return s;
  }
  if (op.kind == WriteKind::kMSet) values = static_cast<std::size_t>(in.keys_size());
  if (auto s = check_count(where + ".values", "values", in.values_size(), values, Count::kExactly);
      !s.is_ok()) {
    return s;
  }
  op.keys = strings(in.keys());
  op.values = strings(in.values());
  return op;
}

Status decode_transaction(const pb::Command& in, Command& out) {
  if (in.transaction_size() > static_cast<int>(limits::kKvMaxTransactionOps)) {
    return invalid_argument(fmt::format("command.transaction: {} commands exceed the limit of {}",
                                        in.transaction_size(), limits::kKvMaxTransactionOps));
  }
  if (in.watched_size() > static_cast<int>(limits::kKvMaxWatchedKeys)) {
    return invalid_argument(fmt::format("command.watched: {} keys exceed the limit of {}",
                                        in.watched_size(), limits::kKvMaxWatchedKeys));
  }
  for (int i = 0; i < in.transaction_size(); ++i) {
    const pb::Op& op = in.transaction(i);
    std::string where = fmt::format("command.transaction[{}]", i);
    if (op.has_read()) {
      auto read = from_pb(op.read(), where + ".read");
      if (!read) return read.status();
      out.transaction.emplace_back(std::move(*read));
    } else if (op.has_write()) {
      auto write = from_pb(op.write(), where + ".write");
      if (!write) return write.status();
      out.transaction.emplace_back(std::move(*write));
    } else {
      return invalid_argument(where + ": neither a read nor a write");
    }
  }
  for (const auto& w : in.watched()) out.watched.push_back({w.key(), w.watch_index()});
  return Status::ok();
}

}  // namespace

std::string encode(const Command& command) {
  pb::Command out;
  out.set_kind(to_pb(command.kind));
  if (command.kind == CommandKind::kWrite) fill(command.write, *out.mutable_write());
  if (command.kind == CommandKind::kExec) fill_transaction(command, out);
  if (command.session) {
    out.mutable_session()->set_client_id(command.session->client_id);
    out.mutable_session()->set_seq(command.session->seq);
  }
  out.set_now_ms(command.now_ms);
  out.set_session_ttl_ms(command.session_ttl_ms);
  return out.SerializeAsString();
}

Result<Command> decode(std::string_view entry) {
  pb::Command in;
  if (entry.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !in.ParseFromArray(entry.data(), static_cast<int>(entry.size()))) {
    return invalid_argument(
        fmt::format("command: {} bytes that are not a protobuf Command", entry.size()));
  }
  Command out;
  out.now_ms = in.now_ms();
  out.session_ttl_ms = in.session_ttl_ms();
  if (in.has_session()) {
    if (in.session().seq() == 0) return invalid_argument("command.session.seq: 0, expected >= 1");
    out.session = Session{in.session().client_id(), in.session().seq()};
  }
  switch (in.kind()) {
    case pb::COMMAND_WRITE: {
      out.kind = CommandKind::kWrite;
      auto write = from_pb(in.write(), "command.write");
      if (!write) return write.status();
      out.write = std::move(*write);
      break;
    }
    case pb::COMMAND_EXEC:
      out.kind = CommandKind::kExec;
      if (auto s = decode_transaction(in, out); !s.is_ok()) return s;
      break;
    case pb::COMMAND_REGISTER:
      out.kind = CommandKind::kRegister;
      if (out.session) return invalid_argument("command.session: REGISTER carries no session");
      break;
    default:
      return invalid_argument(fmt::format("command.kind: unknown command kind {}", in.kind()));
  }
  return out;
}

}  // namespace spofless::kv
