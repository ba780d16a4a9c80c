#pragma once

// What the state machine executes: reads served locally, and Commands that go through the
// Raft log. A Command is encoded into a log entry by the leader and decoded by every replica.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/limits.h"
#include "core/result.h"

namespace spofless::kv {

enum class ReadKind : std::uint8_t { kGet, kMGet, kExists, kDbSize, kScan, kType, kStrLen };

struct ScanArgs {
  std::uint64_t cursor = 0;            // 0 starts an iteration; a reply's cursor continues it
  std::optional<std::string> pattern;  // MATCH, a Redis glob
  std::uint64_t count = limits::kKvScanDefaultCount;  // COUNT >= 1, a hint
  std::optional<std::string> type;                    // TYPE: only keys of this type

  bool operator==(const ScanArgs&) const = default;
};

struct ReadOp {
  ReadKind kind = ReadKind::kGet;
  // kGet, kType, kStrLen: one key. kMGet, kExists: one or more. kDbSize, kScan: none.
  std::vector<std::string> keys;
  ScanArgs scan;  // kScan

  bool operator==(const ReadOp&) const = default;
};

enum class WriteKind : std::uint8_t { kSet, kDel, kIncrBy, kMSet };

enum class SetCondition : std::uint8_t {
  kAlways,
  kIfAbsent,   // NX
  kIfPresent,  // XX
};

enum class SetReply : std::uint8_t {
  kOk,        // +OK, or nil when the condition failed
  kOldValue,  // GET: the value before, or nil
};

struct WriteOp {
  WriteKind kind = WriteKind::kSet;
  // kSet, kIncrBy: one key. kDel: one or more. kMSet: one or more, values[i] for keys[i].
  std::vector<std::string> keys;
  std::vector<std::string> values;                 // kSet: one. kMSet: as many as keys.
  std::int64_t delta = 0;                          // kIncrBy (INCR is 1, DECRBY n is -n)
  SetCondition condition = SetCondition::kAlways;  // kSet
  SetReply reply = SetReply::kOk;                  // kSet

  bool operator==(const WriteOp&) const = default;
};

// One command queued in a transaction: reads run at EXEC time, in order with the writes.
using Op = std::variant<ReadOp, WriteOp>;

// Exactly-once (Raft thesis §6.3): the client's session id and the command's sequence number.
struct Session {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;  // >= 1

  bool operator==(const Session&) const = default;
};

// A key under WATCH, with the StateMachine::watch_index() the server saw at WATCH time.
struct WatchedKey {
  std::string key;
  std::uint64_t watch_index = 0;

  bool operator==(const WatchedKey&) const = default;
};

enum class CommandKind : std::uint8_t {
  kWrite,     // one write
  kExec,      // a MULTI ... EXEC transaction
  kRegister,  // SPOFLESS.REGISTER: opens a session whose id is the entry's index
};

struct Command {
  CommandKind kind = CommandKind::kWrite;
  WriteOp write;                    // kWrite
  std::vector<Op> transaction;      // kExec: the queued commands, in order
  std::vector<WatchedKey> watched;  // kExec
  std::optional<Session> session;   // kWrite, kExec
  // Stamped by the leader when it proposes; the state machine's clock is the largest seen,
  // so time never runs backwards on replay or after a change of leader.
  std::uint64_t now_ms = 0;
  // Stamped by the leader; 0 means limits::kKvDefaultSessionTtlMs.
  std::uint64_t session_ttl_ms = 0;

  bool operator==(const Command&) const = default;
};

// The log entry of `command`. Deterministic: equal commands give equal bytes.
std::string encode(const Command& command);

// The command in a log entry, or invalid_argument naming the field that is wrong (not a
// protobuf Command, an unknown kind, SET with two keys, more than kKvMaxTransactionOps ...).
Result<Command> decode(std::string_view entry);

}  // namespace spofless::kv
