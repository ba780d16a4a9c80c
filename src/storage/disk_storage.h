#pragma once

// Durable storage for one Raft server: a write-ahead log of entries and hard states in
// segment files, snapshot files, and a vote file. README.md describes the files and the
// recovery rules; layout.h and wal_format.h the bytes.
//
// Crash safety: save() and save_snapshot() return only once what they wrote is on disk
// (fdatasync of the files, fsync of the directory when names changed). A crash at any point
// leaves a directory that open() reads back as the state after some prefix of the completed
// calls plus, possibly, the call in progress; a half-written record at the end of the WAL is
// cut off ("torn tail"). Corruption anywhere else is never skipped: open() returns the log
// before it and says so in the RecoveryReport.
//
// Failures: after any write or sync fails, what is on disk is unknown (a failed fsync may have
// dropped the data), so every later save() and save_snapshot() fails with
// failed_precondition: reopen the directory, which reads back what survived.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/result.h"
#include "core/status.h"
#include "raft/raft.h"
#include "storage/layout.h"
#include "storage/posix_file.h"
#include "storage/wal_format.h"

namespace spofless::storage {

struct StorageOptions {
  // A new segment once the current one has grown past this; 1..limits::kWalSegmentBytes.
  std::size_t segment_bytes = limits::kWalSegmentBytes;
  // false skips every fsync: for tests that never crash the machine, never in production.
  bool fsync = true;
};

// What open() found and repaired.
struct RecoveryReport {
  // A torn tail cut off: bytes of the last segment after its last good record. Normal after
  // a crash (the save() in progress never returned, so nothing was promised).
  std::uint64_t torn_bytes_truncated = 0;
  // A bad record before the tail, or a missing or oversized segment: the log holds only the
  // entries before it, and entries this server acknowledged may be gone, so the caller must
  // run Raft in its lost-log mode and re-sync from the leader. hard_state.commit may then
  // exceed the last entry.
  bool corrupt = false;
  // "wal 0000000000000002-0000000000000401.wal offset 8192: crc mismatch (stored 0x1a2b3c4d,
  // computed 0x5e6f7a8b)". The damaged segment's bytes are kept in <name>.corrupt.
  std::string corruption;
  // Snapshot files that failed their checks, moved aside to <name>.corrupt; an older one was
  // used. "0000000000000003-0000000000000400.snap: crc mismatch (...)".
  std::string snapshot_problem;
  // The vote file failed its checks; the WAL's term and vote were used and the file rewritten.
  std::string vote_problem;
  // The log lacks entries this server may have acknowledged: `corrupt` now, or at an earlier
  // open whose re-sync never finished. Durable (the LOG_LOST file, written before any repair),
  // so that a crash cannot make the server forget it; see DiskStorage::clear_log_lost().
  bool log_lost = false;
};

// Thread model: owned by one thread (the node's io thread); not thread-safe.
class DiskStorage {
 public:
  // Opens DIR (created if missing) and locks it against other processes (unavailable if one
  // holds it). Reads back into `state` the hard state, the newest valid snapshot and the
  // entries after it; repairs what `report` describes, so that save() may follow at once.
  // Fails with data_loss when the vote file is damaged as well as the WAL, or when the WAL no
  // longer reaches back to the newest usable snapshot (the message names the files); with
  // failed_precondition for names in DIR this storage never writes, or an I/O error;
  // invalid_argument for bad options.
  static Result<std::unique_ptr<DiskStorage>> open(const std::filesystem::path& dir,
                                                   StorageOptions options,
                                                   raft::PersistentState& state,
                                                   RecoveryReport& report);

  // Persists a raft::Ready with one WAL fsync (group commit), in this order: ready.snapshot
  // if set (its file written, then a fresh log started after it and every older segment
  // deleted), ready.entries (replacing any persisted entries at or after the first one's
  // index), ready.hard_state. The same contract as raft::persist() (raft/memory_storage.h).
  // invalid_argument, with nothing written, for entries that are not contiguous, do not
  // continue the log (or the snapshot), or encode larger than limits::kWalMaxRecordBytes.
  Status save(const raft::Ready& ready);

  // Persists a snapshot the application took (Raft::compact) and drops what it makes
  // unnecessary: snapshot files beyond the limits::kSnapshotFilesKept newest, and WAL
  // segments wholly covered by the oldest snapshot kept (none while fewer are kept), so that
  // a corrupt newest snapshot can always fall back on the older one. A snapshot not newer
  // than the newest on disk is ignored; invalid_argument for one beyond the last entry saved.
  Status save_snapshot(const raft::Snapshot& snapshot);

  // Called with the duration of every fsync, for the caller's latency histogram. Set once.
  void on_fsync(std::function<void(std::chrono::nanoseconds)> observe);

  // The caller's Raft has re-synced the log (raft::Raft::log_lost() turned false): the log
  // holds again everything this server acknowledged. Removes LOG_LOST durably.
  Status clear_log_lost();
  bool log_lost() const { return log_lost_; }

  std::uint64_t wal_bytes() const;  // over every segment
  std::size_t segment_count() const { return segments_.size(); }

  ~DiskStorage();
  DiskStorage(const DiskStorage&) = delete;
  DiskStorage& operator=(const DiskStorage&) = delete;

 private:
  struct Segment {
    SegmentName name;
    std::uint64_t bytes = 0;  // written, or waiting in pending_
  };
  struct Recovered;  // open()'s findings, disk_storage_open.cc

  DiskStorage(std::filesystem::path dir, StorageOptions options, DirLock lock);

  Status resume(Recovered& found);
  Status check_batch(const raft::Ready& ready) const;
  Status install(const raft::Ready& ready);
  Status append_records(const raft::Ready& ready);
  Status save_vote(const raft::HardState& hs);  // when term or vote changed
  Status write_vote(const Vote& vote);
  Status prune_snapshots();
  Status drop_segments_before(std::uint64_t seq);

  // The writer: records go to pending_, then to the current segment (segments_.back()).
  Status add(const RecordValue& record);       // rolls first when the segment is full
  void put(const RecordValue& record);         // into pending_ as is
  Status roll(std::optional<LogStart> start);  // a new segment, starting with `start`
  Status flush();                              // pending_ to the file
  Status commit();                             // flush and sync the file (and dir if new)
  Status fail(Status s);                       // records the first failure
  Status refuse_after_failure() const;

  std::filesystem::path dir_;
  StorageOptions options_;
  DirLock lock_;
  Syncer syncer_;
  std::vector<Segment> segments_;        // ascending seq; the last is appended to
  std::optional<File> current_;          // segments_.back(), open for append
  std::string pending_;                  // encoded records not yet written
  bool unsynced_ = false;                // written to the file since its last sync
  bool dir_dirty_ = false;               // a segment was created since the last dir sync
  std::vector<SnapshotName> snapshots_;  // on disk, ascending index
  raft::LogIndex last_index_;            // the last entry written (or the log start's)
  raft::HardState hard_state_;           // the newest written; the header of every new segment
  Vote vote_;                            // what the vote file holds
  bool log_lost_ = false;                // LOG_LOST is on disk
  Status failed_;                        // the first write failure; refuses everything after
};

}  // namespace spofless::storage
