#pragma once

// Rebuilds the log from WAL records in the order they were written, as the writer's rules
// define it:
// - an entry at index i replaces every entry at or after i (a follower's truncated log is
//   appended again, never rewritten in place) and must follow an entry it can continue:
//   i is at most last + 1, and its term is at least the previous entry's;
// - a log start (index, term) voids every entry so far: the log continues after the
//   snapshot the leader sent;
// - the newest hard state wins.
// The log need not start at index 1: compaction deletes whole segments, so the first entry
// read may be anywhere. Until a log start is read, an entry before the first one read is a
// truncation into a deleted segment, and restarts the log there.
//
// Pure; single-threaded: one instance belongs to one caller.

#include <optional>
#include <utility>
#include <vector>

#include "core/status.h"
#include "raft/types.h"
#include "storage/wal_format.h"

namespace spofless::storage {

class WalReplay {
 public:
  // Applies one record. A record that breaks the rules above is refused (data_loss, saying
  // which rule and the indexes and terms involved) and changes nothing.
  Status apply(const RecordValue& record);

  // The index before the first entry: known from a log start or the first entry read.
  std::optional<raft::LogIndex> base() const { return base_; }
  // The term at base(), when a log start gave it.
  std::optional<raft::Term> base_term() const { return base_term_; }
  // Contiguous from base() + 1.
  const std::vector<raft::Entry>& entries() const { return entries_; }
  // Moves the entries out; the replay is done with.
  std::vector<raft::Entry> take_entries() { return std::move(entries_); }
  const std::optional<raft::HardState>& hard_state() const { return hard_state_; }
  // The index of the last entry, or base() (0 when nothing is known).
  raft::LogIndex last_index() const;

 private:
  Status apply_entry(const raft::Entry& e);

  std::optional<raft::LogIndex> base_;
  std::optional<raft::Term> base_term_;
  std::vector<raft::Entry> entries_;
  std::optional<raft::HardState> hard_state_;
};

}  // namespace spofless::storage
