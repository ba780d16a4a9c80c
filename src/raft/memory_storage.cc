#include "raft/memory_storage.h"

#include <algorithm>

namespace spofless::raft {

void persist(PersistentState& disk, const Ready& ready) {
  if (ready.snapshot) {
    disk.snapshot = *ready.snapshot;
    disk.entries.clear();
  }
  if (ready.hard_state) disk.hard_state = *ready.hard_state;
  if (ready.entries.empty()) return;
  LogIndex first = ready.entries.front().index;
  std::erase_if(disk.entries, [&](const Entry& e) { return e.index >= first; });
  disk.entries.insert(disk.entries.end(), ready.entries.begin(), ready.entries.end());
}

void persist_compaction(PersistentState& disk, const Snapshot& snapshot) {
  if (snapshot.index <= disk.snapshot.index) return;
  std::erase_if(disk.entries, [&](const Entry& e) { return e.index <= snapshot.index; });
  disk.snapshot = snapshot;
}

}  // namespace spofless::raft
