#include "raft/progress.h"

#include <algorithm>

namespace spofless::raft {

bool Progress::can_send() const {
  if (state_ == State::kProbe) return !probe_sent_;
  return inflight_.size() < max_inflight_;
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
  if (state_ == State::kProbe) {
    state_ = State::kReplicate;
    inflight_.clear();
  }
  return true;
}

bool Progress::rejected(LogIndex rejected_index, LogIndex hint) {
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

void Progress::heard_from() {
  probe_sent_ = false;
  if (state_ == State::kReplicate && inflight_.size() >= max_inflight_) inflight_.pop_front();
}

void Progress::reset_to_probe() {
  state_ = State::kProbe;
  probe_sent_ = false;
  inflight_.clear();
  next_ = match_.next();
}

}  // namespace spofless::raft
