// Re-syncing a server whose disk lost log entries it may have acknowledged (Config::log_lost):
// the follower's way out of the lost state, and the leader's handling of its reports.
// docs/raft.md, "Lost log: re-syncing after disk corruption", has the rules (F1-F3, L1-L3) and
// the proof sketch; F1 and F2 live where votes, timeouts and responses are handled (raft.cc).

#include <algorithm>

#include "raft/raft.h"

namespace spofless::raft {

// F3, the end of the lost-log state. The append came from the leader of this term and carries
// log_lost: that leader's match for this server holds only what the server proved after its
// loss, and no acknowledgement that may predate the loss can raise it again (L3). After
// placing the append this log matches the leader's up to the leader's commit index c, and the
// entry at c is of this term, so the leader had committed in its own term and c covers every
// entry committed in earlier terms; what this leader committed counting a stale
// acknowledgement was committed before it sent this append, so at or below c. Once this log
// holds c durably, it holds everything a majority counting this server can have committed.
void Raft::note_resync(const Message& m, LogIndex last) {
  if (!log_lost_ || !m.log_lost || last < m.commit || log_.term_at(m.commit) != term_) return;
  resync_through_ = std::max(resync_through_.value_or(LogIndex{}), m.commit);
}

void Raft::maybe_leave_lost_log() {
  // Only once the re-synced log is durable: a server that removed its marker earlier and then
  // crashed could come back voting without the entries it needs.
  if (log_lost_ && resync_through_ && log_.stable() >= *resync_through_) {
    log_lost_ = false;
    resync_through_.reset();
  }
}

// An AppendResp carrying log_lost: the follower's disk lost entries, perhaps ones it had
// acknowledged. Its unflagged acknowledgements so far are fenced off, and match drops to what
// this response proves: an accept proves its index; a reject proves its hint when that is below
// match, because the follower's log is then what survived of a log that matched ours up to
// match, so it holds the hint entry with our term. The hint is refined with our log as for any
// reject, except that our log cannot refine below our snapshot, where the refinement would
// answer the snapshot's index, which the follower may not hold. Returns true when match
// dropped (the follower is probed again from just after it); otherwise the response goes on to
// be handled like any other.
bool Raft::take_loss_report(const Message& m, Progress& pr) {
  LogIndex proven = m.index;
  if (m.reject) {
    proven = std::min(m.hint_index, log_.last_index_with_term_at_most(m.hint_index, m.hint_term));
  }
  return pr.lower_match(proven, log_.last_index());
}

}  // namespace spofless::raft
