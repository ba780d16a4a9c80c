#pragma once

// What a leader knows of one follower's log, and the flow control of appends to it.
//   kProbe:     the follower's match is unknown; one append at a time, backtracking on
//               rejects, until one is accepted.
//   kReplicate: appends are pipelined optimistically (next moves ahead at send), with at
//               most max_inflight batches unacknowledged.
//   kSnapshot:  the entries it needs are compacted away; a snapshot is on its way and nothing
//               else is sent until it is acknowledged or overdue.
// A follower whose disk lost entries (Message::log_lost) may have acknowledged more than it
// now holds: its reports lower match to what it proves, and acknowledgements without the flag
// that may predate the loss are fenced off (docs/raft.md, "Lost log").
// Single-threaded: owned by the leader's Raft instance.

#include <cstdint>
#include <deque>
#include <optional>

#include "raft/types.h"

namespace spofless::raft {

class Progress {
 public:
  enum class State { kProbe, kReplicate, kSnapshot };

  Progress(LogIndex next, std::size_t max_inflight) : next_(next), max_inflight_(max_inflight) {}

  LogIndex match() const { return match_; }
  LogIndex next() const { return next_; }
  State state() const { return state_; }

  // Whether another append may be sent now.
  bool can_send() const;
  // An append of entries up to `last` was sent (last == next-1 for an empty probe).
  void sent(LogIndex last);
  // The follower accepted up to `index`. Returns true when match moved forward.
  bool accepted(LogIndex index);
  // The follower rejected the append after `rejected`; `hint` is where to retry from (already
  // computed by the leader). Returns false for a stale reject that changes nothing.
  bool rejected(LogIndex rejected, LogIndex hint);
  // A snapshot at `index` was sent at tick `now`.
  void sent_snapshot(LogIndex index, std::uint64_t now);
  // In kSnapshot for `timeout` ticks without an acknowledgement (the snapshot or its answer may
  // be lost): back to probing, which sends it again.
  void maybe_abort_snapshot(std::uint64_t now, std::uint64_t timeout);
  // A heartbeat response: the follower is reachable. In probe, allows the next probe; in
  // replicate with a full window, frees the oldest slot, since appends or their acks may have
  // been lost and nothing else would ever free it (the next append then either lands or is
  // rejected, which sends the follower back to probe).
  void heard_from();

  // A response carrying log_lost arrived while this leader's last index was `last`. The first
  // such sets the fence there: an acknowledgement without the flag for an index at or below
  // the fence may have been sent before the loss (a promise the disk then broke), so none
  // such counts from now on.
  void fence(LogIndex last);
  // An acknowledgement without the flag that the fence refuses.
  bool fenced(LogIndex index) const { return has_fence_ && index <= fence_; }
  // A fenced acknowledgement of `index`: match stays, since the follower may no longer hold
  // `index`, but sending resumes after it, as the likeliest end of the follower's log (its log
  // check refuses a wrong guess, and the reject sends it back to probing). Without this, a
  // follower that left the lost state and whose match dropped again (a late flagged response)
  // would only ever answer with acknowledgements the fence refuses.
  void accepted_unverified(LogIndex index);
  // An AppendResp carrying log_lost, sent while this leader's last index was `last`, proved
  // that the follower's log matches ours up to `proven`. When match was higher (the follower
  // lost entries it had acknowledged, perhaps again), match drops to `proven`, probing resumes
  // after it, and the fence moves up to `last`. Returns true when match dropped.
  bool lower_match(LogIndex proven, LogIndex last);
  // The follower reported a loss, match holds only what it proved since, and match has reached
  // the fence, so that its acknowledgements without the flag count again from here on: appends
  // carry log_lost to tell it so, which lets it leave the lost state.
  bool resynced() const { return proven_ && has_fence_ && match_ >= fence_; }

  bool recent_active = false;           // heard from since the last check-quorum round
  std::uint64_t last_contact_tick = 0;  // leader's tick count when last heard from
  std::uint64_t acked_round = 0;        // the newest heartbeat round it acknowledged

 private:
  // Back to probing: the connection may have lost appends in flight.
  void reset_to_probe();

  LogIndex match_;
  LogIndex next_;
  State state_ = State::kProbe;
  bool probe_sent_ = false;
  std::uint64_t snapshot_sent_tick_ = 0;
  std::size_t max_inflight_;
  std::deque<LogIndex> inflight_;  // last index of each unacknowledged batch, in send order
  // See fence(). A flag beside the index rather than std::optional: g++ 12 at -O1 reports a
  // false maybe-uninitialized for the optional's value.
  LogIndex fence_;
  bool has_fence_ = false;
  bool proven_ = false;            // match was set from an AppendResp carrying log_lost
};

}  // namespace spofless::raft
