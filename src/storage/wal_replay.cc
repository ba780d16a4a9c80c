#include "storage/wal_replay.h"

#include <fmt/format.h>

namespace spofless::storage {
namespace {

Status data_loss(std::string message) { return {StatusCode::kDataLoss, std::move(message)}; }

}  // namespace

raft::LogIndex WalReplay::last_index() const {
  if (!entries_.empty()) return entries_.back().index;
  return base_.value_or(raft::LogIndex{});
}

Status WalReplay::apply(const RecordValue& record) {
  if (const auto* e = std::get_if<raft::Entry>(&record)) return apply_entry(*e);
  if (const auto* hs = std::get_if<raft::HardState>(&record)) {
    hard_state_ = *hs;
    return Status::ok();
  }
  const auto& start = std::get<LogStart>(record);
  base_ = start.index;
  base_term_ = start.term;
  entries_.clear();
  return Status::ok();
}

Status WalReplay::apply_entry(const raft::Entry& e) {
  if (e.index == raft::LogIndex{}) return data_loss("entry index 0: indexes start at 1");
  if (!base_ || (e.index <= *base_ && !base_term_)) {
    // The first entry read, or a truncation into a segment compaction deleted.
    base_ = e.index.prev();
    entries_.clear();
    entries_.push_back(e);
    return Status::ok();
  }
  if (e.index <= *base_) {
    return data_loss(fmt::format("entry index {} is at or before the log start {}", e.index.value,
                                 base_->value));
  }
  raft::LogIndex last = last_index();
  if (e.index > last.next()) {
    return data_loss(
        fmt::format("entry index {} after index {}: not contiguous", e.index.value, last.value));
  }
  std::size_t keep = e.index.value - base_->value - 1;  // entries before e.index
  std::optional<raft::Term> previous =
      keep > 0 ? std::optional(entries_[keep - 1].term) : base_term_;
  if (previous && e.term < *previous) {
    return data_loss(fmt::format("entry {} has term {}, below the previous entry's term {}",
                                 e.index.value, e.term.value, previous->value));
  }
  entries_.resize(keep);
  entries_.push_back(e);
  return Status::ok();
}

}  // namespace spofless::storage
