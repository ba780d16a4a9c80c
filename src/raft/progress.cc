#include "raft/progress.h"

#include <algorithm>

namespace spofless::raft {

bool Progress::can_send() const {
  switch (state_) {
    case State::kProbe:
      return !probe_sent_;
    case State::kReplicate:
      return inflight_.size() < max_inflight_;
    case State::kSnapshot:
      return false;
  }
  return false;
}

void Progress::sent(LogIndex last) {
  if (state_ == State::kProbe) {
    probe_sent_ = true;
    return;
  }
  if (last >= next_) {
    inflight_.push_back(last);
    next_ = last.next();
  }
}

bool Progress::accepted(LogIndex index) {
  probe_sent_ = false;
  while (!inflight_.empty() && inflight_.front() <= index) inflight_.pop_front();
  if (index <= match_) return false;
  match_ = index;
  next_ = std::max(next_, index.next());
  if (state_ == State::kSnapshot && index < next_.prev()) return true;  // not the snapshot yet
  if (state_ != State::kReplicate) {
    state_ = State::kReplicate;
    inflight_.clear();
  }
  return true;
}

bool Progress::rejected(LogIndex rejected_index, LogIndex hint) {
  if (state_ == State::kSnapshot) return false;  // the snapshot's answer decides
  // Stale: in replicate, a reject at or below match was answered by a later accept; in
  // probe, only the reject of the append in flight (after next-1) counts.
  if (state_ == State::kReplicate ? rejected_index <= match_ : rejected_index != next_.prev()) {
    return false;
  }
  reset_to_probe();
  // Retry at most one entry back from the rejected one, at least just after match.
  next_ = std::max(match_.next(), std::min(hint.next(), rejected_index));
  return true;
}

void Progress::sent_snapshot(LogIndex index, std::uint64_t now) {
  state_ = State::kSnapshot;
  inflight_.clear();
  next_ = index.next();
  snapshot_sent_tick_ = now;
}

void Progress::maybe_abort_snapshot(std::uint64_t now, std::uint64_t timeout) {
  if (state_ == State::kSnapshot && now - snapshot_sent_tick_ >= timeout) reset_to_probe();
}

void Progress::heard_from() {
  probe_sent_ = false;
  if (state_ == State::kReplicate && inflight_.size() >= max_inflight_) inflight_.pop_front();
}

void Progress::accepted_unverified(LogIndex index) {
  probe_sent_ = false;
  while (!inflight_.empty() && inflight_.front() <= index) inflight_.pop_front();
  if (state_ == State::kSnapshot) {
    if (index < next_.prev()) return;  // not the snapshot's answer
    state_ = State::kProbe;
  }
  next_ = std::max(next_, index.next());
}

void Progress::fence(LogIndex last) {
  if (has_fence_) return;
  fence_ = last;
  has_fence_ = true;
}

bool Progress::lower_match(LogIndex proven, LogIndex last) {
  fence(last);
  proven_ = true;
  if (proven >= match_) return false;
  match_ = proven;
  // A new loss, or a late report of the known one: either way unflagged acknowledgements up
  // to `last` may predate it.
  fence_ = std::max(fence_, last);
  reset_to_probe();
  return true;
}

void Progress::reset_to_probe() {
  state_ = State::kProbe;
  probe_sent_ = false;
  inflight_.clear();
  next_ = match_.next();
}

}  // namespace spofless::raft
