#include "raft/log.h"

#include <algorithm>

#include "core/check.h"

namespace spofless::raft {

RaftLog::RaftLog(LogIndex snapshot_index, Term snapshot_term, std::vector<Entry> entries)
    : snapshot_index_(snapshot_index),
      snapshot_term_(snapshot_term),
      entries_(std::move(entries)),
      committed_(snapshot_index),
      applied_(snapshot_index),
      stable_(snapshot_index) {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    SPOFLESS_CHECK(entries_[i].index.value == snapshot_index_.value + 1 + i,
                   "log entries are contiguous after the snapshot");
  }
  stable_ = last_index();
}

LogIndex RaftLog::last_index() const {
  return entries_.empty() ? snapshot_index_ : entries_.back().index;
}

Term RaftLog::last_term() const { return entries_.empty() ? snapshot_term_ : entries_.back().term; }

const Entry* RaftLog::at(LogIndex index) const {
  if (index <= snapshot_index_ || index > last_index()) return nullptr;
  return &entries_[index.value - snapshot_index_.value - 1];
}

std::optional<Term> RaftLog::term_at(LogIndex index) const {
  if (index == snapshot_index_) return snapshot_term_;
  const Entry* e = at(index);
  if (!e) return std::nullopt;
  return e->term;
}

bool RaftLog::is_up_to_date(LogIndex index, Term term) const {
  return term > last_term() || (term == last_term() && index >= last_index());
}

void RaftLog::append(const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    SPOFLESS_CHECK(e.index == last_index().next() && e.term >= last_term(),
                   "appended entries continue the log");
    entries_.push_back(e);
  }
}

LogIndex RaftLog::place(LogIndex prev, const std::vector<Entry>& entries) {
  SPOFLESS_CHECK(term_at(prev).has_value(), "place() after a known entry");
  for (const Entry& e : entries) {
    std::optional<Term> mine = term_at(e.index);
    if (mine == e.term) continue;  // already have it (§5.3: keep entries that agree)
    if (mine.has_value()) {
      SPOFLESS_CHECK(e.index > committed_, "a committed entry is never overwritten");
      entries_.resize(e.index.value - snapshot_index_.value - 1);
      stable_ = std::min(stable_, e.index.prev());
    }
    SPOFLESS_CHECK(e.index == last_index().next(), "placed entries continue the log");
    entries_.push_back(e);
  }
  return entries.empty() ? prev : entries.back().index;
}

std::vector<Entry> RaftLog::slice(LogIndex lo, LogIndex hi, std::size_t max_count) const {
  std::vector<Entry> out;
  for (LogIndex i = lo; i <= hi && (out.empty() || out.size() < max_count); i = i.next()) {
    const Entry* e = at(i);
    if (!e) break;
    out.push_back(*e);
  }
  return out;
}

LogIndex RaftLog::last_index_with_term_at_most(LogIndex index, Term term) const {
  LogIndex i = std::min(index, last_index());
  while (i > snapshot_index_) {
    if (at(i)->term <= term) return i;
    i = i.prev();
  }
  return snapshot_index_;
}

void RaftLog::commit_to(LogIndex index) {
  if (index <= committed_) return;
  SPOFLESS_CHECK(index <= last_index(), "commit within the log");
  committed_ = index;
}

void RaftLog::applied_to(LogIndex index) {
  if (index <= applied_) return;
  SPOFLESS_CHECK(index <= committed_, "apply only committed entries");
  applied_ = index;
}

void RaftLog::stable_to(LogIndex index, Term term) {
  if (matches(index, term) && index > stable_) stable_ = index;
}

std::vector<Entry> RaftLog::unstable() const {
  return slice(stable_.next(), last_index(), entries_.size());
}

void RaftLog::compact_to(LogIndex index) {
  SPOFLESS_CHECK(index >= snapshot_index_ && index <= applied_, "compact only applied entries");
  Term term = *term_at(index);
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(index.value - snapshot_index_.value));
  snapshot_index_ = index;
  snapshot_term_ = term;
}

void RaftLog::restore(LogIndex index, Term term) {
  SPOFLESS_CHECK(index > committed_, "a snapshot restores only what is not yet committed");
  entries_.clear();
  snapshot_index_ = index;
  snapshot_term_ = term;
  committed_ = index;
  applied_ = index;
  stable_ = index;
}

}  // namespace spofless::raft
