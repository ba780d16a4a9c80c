#pragma once

// A Ready's persistence done on an in-memory copy of the disk: what the scenario tests and
// the simulator use in place of a write-ahead log. The real WAL (issue 4) keeps the same
// contract.

#include "raft/raft.h"

namespace spofless::raft {

// Saves ready.snapshot (replacing the whole log), ready.hard_state (when set) and
// ready.entries into `disk`; the entries replace any at or after the first one's index, as a
// follower's truncated log requires.
void persist(PersistentState& disk, const Ready& ready);

// Saves a snapshot the application took (Raft::compact) and drops the entries it covers.
void persist_compaction(PersistentState& disk, const Snapshot& snapshot);

}  // namespace spofless::raft
