#pragma once

// The replicated log as one server holds it, in memory: entries after the last snapshot,
// with three watermarks: stable (persisted, as reported by the caller), committed and
// applied. Invariants: applied <= committed; stable <= last_index(); entries are contiguous
// and their terms never decrease.
// Single-threaded: owned by its Raft instance.

#include <optional>
#include <vector>

#include "raft/types.h"

namespace spofless::raft {

class RaftLog {
 public:
  // A log that starts after a snapshot at (snapshot_index, snapshot_term), (0, 0) for none,
  // holding `entries`, all already persisted.
  RaftLog(LogIndex snapshot_index, Term snapshot_term, std::vector<Entry> entries);

  LogIndex first_index() const { return snapshot_index_.next(); }
  LogIndex snapshot_index() const { return snapshot_index_; }
  LogIndex last_index() const;
  Term last_term() const;
  // The term of the entry at `index`; the snapshot's term at its index; nothing for an index
  // compacted away or past the end.
  std::optional<Term> term_at(LogIndex index) const;
  // The entry at `index`; null for an index compacted away or past the end.
  const Entry* entry(LogIndex index) const { return at(index); }
  bool matches(LogIndex index, Term term) const { return term_at(index) == term; }
  // Raft §5.4.1: a log ending at (last_index, last_term) is at least as up to date as this.
  bool is_up_to_date(LogIndex last_index, Term last_term) const;

  // Appends new entries at the end. REQUIRES: they continue the log.
  void append(const std::vector<Entry>& entries);
  // Follower: places `entries`, which follow `prev` (REQUIRES: matches(prev, its term)),
  // keeping entries that agree and truncating from the first conflict (§5.3). Never
  // truncates at or below the commit index (that would be a safety bug: checked).
  // Returns the index of the last entry of `entries` (prev when empty).
  LogIndex place(LogIndex prev, const std::vector<Entry>& entries);

  // Entries in [lo, hi], at most max_count (at least one when the range is not empty).
  std::vector<Entry> slice(LogIndex lo, LogIndex hi, std::size_t max_count) const;
  // Fast backtracking: the largest index <= `index` whose term is <= `term`.
  LogIndex last_index_with_term_at_most(LogIndex index, Term term) const;

  LogIndex committed() const { return committed_; }
  LogIndex applied() const { return applied_; }
  LogIndex stable() const { return stable_; }
  // REQUIRES: index <= last_index(). Never moves backwards.
  void commit_to(LogIndex index);
  // Ignored for an index a restored snapshot has overtaken.
  void applied_to(LogIndex index);
  // The caller persisted entries up to (index, term); ignored when that entry has since been
  // replaced by a truncation.
  void stable_to(LogIndex index, Term term);
  std::vector<Entry> unstable() const;  // (stable, last_index]

  // Drops the entries up to `index`, which a snapshot now stands for. REQUIRES: a snapshot
  // index <= index <= applied().
  void compact_to(LogIndex index);
  // Replaces the whole log with a snapshot at (index, term) from the leader: everything up to
  // `index` is committed, applied (by loading the snapshot) and stable (once it is persisted,
  // before anything later is).
  void restore(LogIndex index, Term term);

 private:
  const Entry* at(LogIndex index) const;

  LogIndex snapshot_index_;
  Term snapshot_term_;
  std::vector<Entry> entries_;  // entries_[i].index == snapshot_index_ + 1 + i
  LogIndex committed_;
  LogIndex applied_;
  LogIndex stable_;
};

}  // namespace spofless::raft
