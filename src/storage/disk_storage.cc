#include "storage/disk_storage.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace spofless::storage {

DiskStorage::DiskStorage(std::filesystem::path dir, StorageOptions options, DirLock lock)
    : dir_(std::move(dir)),
      options_(options),
      lock_(std::move(lock)),
      syncer_(options.fsync ? Syncer::Mode::kSync : Syncer::Mode::kSkip) {}

DiskStorage::~DiskStorage() = default;

void DiskStorage::on_fsync(std::function<void(std::chrono::nanoseconds)> observe) {
  syncer_.on_fsync(std::move(observe));
}

std::uint64_t DiskStorage::wal_bytes() const {
  std::uint64_t total = 0;
  for (const Segment& s : segments_) total += s.bytes;
  return total;
}

Status DiskStorage::fail(Status s) {
  // invalid_argument is refused before anything is written: the disk is as it was.
  if (!s.is_ok() && s.code() != StatusCode::kInvalidArgument && failed_.is_ok()) failed_ = s;
  return s;
}

Status DiskStorage::refuse_after_failure() const {
  return {StatusCode::kFailedPrecondition,
          "an earlier write failed (" + failed_.message() + "); reopen the storage"};
}

Status DiskStorage::save(const raft::Ready& ready) {
  if (!failed_.is_ok()) return refuse_after_failure();
  if (Status s = check_batch(ready); !s.is_ok()) return s;
  Status s = ready.snapshot ? install(ready) : append_records(ready);
  if (s.is_ok() && ready.hard_state) s = save_vote(*ready.hard_state);
  return fail(std::move(s));
}

Status DiskStorage::check_batch(const raft::Ready& ready) const {
  raft::LogIndex last = ready.snapshot ? ready.snapshot->index : last_index_;
  raft::LogIndex floor = ready.snapshot ? last : raft::LogIndex{};
  for (std::size_t i = 0; i < ready.entries.size(); ++i) {
    const raft::Entry& e = ready.entries[i];
    bool fits = i == 0 ? (e.index > floor && e.index <= last.next())
                       : (e.index == ready.entries[i - 1].index.next() &&
                          e.term >= ready.entries[i - 1].term);
    if (!fits) {
      return invalid_argument(fmt::format(
          "entries[{}]: index {} term {} does not continue the log (last index {}{})", i,
          e.index.value, e.term.value, last.value, ready.snapshot ? ", after a snapshot" : ""));
    }
    std::size_t bytes = record_size(e);
    if (bytes > kRecordHeaderBytes + limits::kWalMaxRecordBytes) {
      return invalid_argument(fmt::format("entries[{}]: index {} encodes to {} bytes, limit {}", i,
                                          e.index.value, bytes - kRecordHeaderBytes,
                                          limits::kWalMaxRecordBytes));
    }
  }
  return Status::ok();
}

Status DiskStorage::append_records(const raft::Ready& ready) {
  for (const raft::Entry& e : ready.entries) {
    if (Status s = add(e); !s.is_ok()) return s;
  }
  if (ready.hard_state) {
    if (Status s = add(*ready.hard_state); !s.is_ok()) return s;
  }
  return commit();
}

// The snapshot's file first: until the WAL's log start is durable, open() finds the snapshot
// newer than the log and drops the log entries that conflict with it. Old segments go last,
// once the new one (with the current hard state in its header) is durable.
Status DiskStorage::install(const raft::Ready& ready) {
  const raft::Snapshot& snapshot = *ready.snapshot;
  Result<std::string> bytes = encode_snapshot_file(snapshot);
  if (!bytes) return bytes.status();
  SnapshotName name{snapshot.term, snapshot.index};
  if (Status s = write_file_atomically(syncer_, dir_, file_name(name), *bytes); !s.is_ok()) {
    return s;
  }
  std::erase(snapshots_, name);
  snapshots_.push_back(name);
  std::sort(snapshots_.begin(), snapshots_.end(),
            [](const SnapshotName& a, const SnapshotName& b) { return a.index < b.index; });
  last_index_ = snapshot.index;
  if (Status s = roll(LogStart{snapshot.index, snapshot.term}); !s.is_ok()) return s;
  std::uint64_t first_seq = segments_.back().name.seq;
  if (Status s = append_records(ready); !s.is_ok()) return s;
  if (Status s = drop_segments_before(first_seq); !s.is_ok()) return s;
  if (Status s = prune_snapshots(); !s.is_ok()) return s;
  return syncer_.sync_dir(dir_);
}

Status DiskStorage::save_vote(const raft::HardState& hs) {
  Vote vote{hs.term, hs.vote};
  if (vote == vote_) return Status::ok();
  return write_vote(vote);
}

Status DiskStorage::write_vote(const Vote& vote) {
  Status s = write_file_atomically(syncer_, dir_, kVoteFileName, encode_vote_file(vote));
  if (s.is_ok()) vote_ = vote;
  return s;
}

Status DiskStorage::clear_log_lost() {
  if (!failed_.is_ok()) return refuse_after_failure();
  if (!log_lost_) return Status::ok();
  Status s = remove_file(dir_ / kLogLostFileName);
  if (s.is_ok()) s = syncer_.sync_dir(dir_);
  if (s.is_ok()) log_lost_ = false;
  return fail(std::move(s));
}

Status DiskStorage::save_snapshot(const raft::Snapshot& snapshot) {
  if (!failed_.is_ok()) return refuse_after_failure();
  if (!snapshots_.empty() && snapshot.index <= snapshots_.back().index) return Status::ok();
  if (snapshot.index > last_index_) {
    return invalid_argument(fmt::format("snapshot at index {} is beyond the last entry saved, {}",
                                        snapshot.index.value, last_index_.value));
  }
  Result<std::string> bytes = encode_snapshot_file(snapshot);
  if (!bytes) return bytes.status();
  SnapshotName name{snapshot.term, snapshot.index};
  Status s = write_file_atomically(syncer_, dir_, file_name(name), *bytes);
  if (!s.is_ok()) return fail(std::move(s));
  snapshots_.push_back(name);
  if (s = prune_snapshots(); !s.is_ok()) return fail(std::move(s));
  if (snapshots_.size() >= limits::kSnapshotFilesKept) {
    // Wholly covered by the oldest snapshot kept: the next segment starts at or before it.
    raft::LogIndex floor = snapshots_.front().index;
    std::uint64_t keep_from = segments_.back().name.seq;
    for (std::size_t i = 0; i + 1 < segments_.size(); ++i) {
      if (segments_[i + 1].name.first.prev() > floor) {
        keep_from = segments_[i].name.seq;
        break;
      }
    }
    if (s = drop_segments_before(keep_from); !s.is_ok()) return fail(std::move(s));
  }
  return fail(syncer_.sync_dir(dir_));
}

// Removes the files of all but the kSnapshotFilesKept newest snapshots. The caller syncs dir_.
Status DiskStorage::prune_snapshots() {
  // Bounded by the number of snapshot files, which this loop brings down to the limit.
  while (snapshots_.size() > limits::kSnapshotFilesKept) {
    if (Status s = remove_file(dir_ / file_name(snapshots_.front())); !s.is_ok()) return s;
    snapshots_.erase(snapshots_.begin());
  }
  return Status::ok();
}

// Removes the segments with a sequence number below `seq`, oldest first, syncing dir_ after
// each: unsynced removals may reach the disk in any order, and a crash must leave a run of
// consecutive sequence numbers (a gap reads as a missing segment: corruption). Segments are
// large, so removals are rare.
Status DiskStorage::drop_segments_before(std::uint64_t seq) {
  // Bounded by the number of segments, which every turn brings down by one.
  while (segments_.size() > 1 && segments_.front().name.seq < seq) {
    if (Status s = remove_file(dir_ / file_name(segments_.front().name)); !s.is_ok()) return s;
    segments_.erase(segments_.begin());
    if (Status s = syncer_.sync_dir(dir_); !s.is_ok()) return s;
  }
  return Status::ok();
}

Status DiskStorage::add(const RecordValue& record) {
  if (segments_.back().bytes >= options_.segment_bytes) {
    if (Status s = roll(std::nullopt); !s.is_ok()) return s;
  }
  put(record);
  return Status::ok();
}

void DiskStorage::put(const RecordValue& record) {
  std::size_t before = pending_.size();
  append_record(pending_, record);
  segments_.back().bytes += pending_.size() - before;
  if (const auto* e = std::get_if<raft::Entry>(&record)) last_index_ = e->index;
  if (const auto* start = std::get_if<LogStart>(&record)) last_index_ = start->index;
  if (const auto* hs = std::get_if<raft::HardState>(&record)) hard_state_ = *hs;
}

// The old segment is complete and durable before the new one exists, so only the last
// segment can ever have a torn tail. The new segment begins with the current hard state, so
// that deleting older segments never loses it.
Status DiskStorage::roll(std::optional<LogStart> start) {
  if (current_) {
    if (Status s = commit(); !s.is_ok()) return s;
  }
  if (segments_.size() >= limits::kWalMaxSegments) {
    return resource_exhausted(
        fmt::format("{}: {} WAL segments: compact the log", dir_.string(), segments_.size()));
  }
  SegmentName name{segments_.empty() ? 1 : segments_.back().name.seq + 1, last_index_.next()};
  Result<File> file = File::open(dir_ / file_name(name), File::Open::kCreateNew);
  if (!file) return file.status();
  current_ = std::move(file).value();
  segments_.push_back(Segment{name, 0});
  dir_dirty_ = true;
  if (start) put(*start);
  put(hard_state_);
  return Status::ok();
}

Status DiskStorage::flush() {
  if (pending_.empty()) return Status::ok();
  unsynced_ = true;
  Status s = current_->append(pending_);
  pending_.clear();
  return s;
}

Status DiskStorage::commit() {
  if (Status s = flush(); !s.is_ok()) return s;
  if (unsynced_) {
    if (Status s = current_->sync(syncer_); !s.is_ok()) return s;
    unsynced_ = false;
  }
  if (!dir_dirty_) return Status::ok();
  dir_dirty_ = false;
  return syncer_.sync_dir(dir_);
}

}  // namespace spofless::storage
