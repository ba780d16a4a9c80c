#pragma once

// The replicated key-value state machine behind `spofless db`.
//
// Every replica applies the same committed log entries in the same order and so reaches the
// same state: apply() reads no clock and no randomness; time comes in the entries, stamped by
// the leader. Reads are served from the local state after the server has made it current
// (ReadIndex), and never change it.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "core/status.h"
#include "kv/command.h"
#include "kv/keyspace.h"
#include "kv/reply.h"
#include "kv/session_table.h"

namespace spofless::kv {

// Bounds of one state machine. Every replica of a cluster must use the same values (the
// server uses the defaults); tests lower them to reach the limits quickly.
struct Options {
  std::size_t max_keys = limits::kKvMaxKeys;
  std::size_t max_tombstones = limits::kKvMaxTombstones;
  std::size_t max_sessions = limits::kKvMaxSessions;
};

// Thread: single-threaded; owned by the db server's apply loop, which also serves the reads.
class StateMachine {
 public:
  explicit StateMachine(Options options = {});

  // Applies the command in the log entry at `index` and returns its reply. A write modifies
  // its keys at version `index`; an EXEC applies all its commands at that version or none
  // (WATCH abort: a nil array). An entry that does not decode changes no key, session or time
  // and returns an error reply; it still counts as applied.
  // REQUIRES: index > applied().
  Reply apply(std::uint64_t index, std::string_view entry);
  // Records that the entry at `index` is not a command (a Raft no-op or membership change).
  // REQUIRES: index > applied().
  void skip(std::uint64_t index);

  // A read at the current state: GET, MGET, EXISTS, DBSIZE, SCAN, TYPE, STRLEN.
  Reply read(const ReadOp& op) const;

  // Everything that apply() depends on, in deterministic bytes: equal states give equal bytes.
  std::string snapshot() const;
  // Replaces the whole state with a snapshot's; on error (invalid_argument naming the field)
  // the state is unchanged.
  Status restore(std::string_view data);

  std::uint64_t applied() const { return applied_; }
  // What WATCH records for its keys: modifications at a later index abort the EXEC.
  std::uint64_t watch_index() const { return applied_; }
  std::size_t size() const { return keys_.size(); }   // DBSIZE
  std::uint64_t time_ms() const { return time_ms_; }  // the largest now_ms applied
  std::uint64_t horizon() const { return keys_.horizon(); }
  std::size_t session_count() const { return sessions_.size(); }

 private:
  Reply execute(const Command& command, std::uint64_t index);
  Reply execute_sequenced(const Command& command, std::uint64_t index);
  Reply exec(const Command& command, std::uint64_t index);
  Reply write(const WriteOp& op, std::uint64_t index);
  Reply set(const WriteOp& op, std::uint64_t index);
  Reply incr_by(const WriteOp& op, std::uint64_t index);
  Reply mset(const WriteOp& op, std::uint64_t index);
  Reply del(const WriteOp& op, std::uint64_t index);
  Reply scan(const ScanArgs& args) const;
  // False when `added` more keys would exceed max_keys.
  bool has_room_for(std::size_t added) const;

  Options options_;
  Keyspace keys_;
  SessionTable sessions_;
  std::uint64_t applied_ = 0;
  std::uint64_t time_ms_ = 0;
};

}  // namespace spofless::kv
