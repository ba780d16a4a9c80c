// DiskStorage::open(): reading a data directory back, deciding what survived, and repairing
// it so that writing may continue. Nothing is changed on disk until every decision is made,
// so an open() that fails leaves the directory as it found it (leftover *.tmp files aside).

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "storage/disk_storage.h"
#include "storage/wal_replay.h"

namespace spofless::storage {
namespace {

namespace fs = std::filesystem;

Status data_loss(std::string message) { return {StatusCode::kDataLoss, std::move(message)}; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Listing {
  std::vector<SegmentName> segments;    // ascending seq
  std::vector<SnapshotName> snapshots;  // ascending index
  bool has_vote = false;
  bool has_log_lost = false;
};

Result<Listing> list(const fs::path& dir) {
  Result<std::vector<std::string>> names = list_dir(dir, limits::kStorageMaxDirEntries);
  if (!names) return names.status();
  Listing out;
  for (const std::string& name : *names) {
    if (ends_with(name, kTmpSuffix)) {
      if (Status s = remove_file(dir / name); !s.is_ok()) return s;  // a crash's leftover
    } else if (ends_with(name, ".wal")) {
      std::optional<SegmentName> segment = parse_segment_name(name);
      if (!segment) {
        return Status(StatusCode::kFailedPrecondition,
                      fmt::format("{}: not a segment name (<seq:016x>-<first-index:016x>.wal)",
                                  (dir / name).string()));
      }
      out.segments.push_back(*segment);
    } else if (ends_with(name, ".snap")) {
      std::optional<SnapshotName> snapshot = parse_snapshot_name(name);
      if (!snapshot) {
        return Status(StatusCode::kFailedPrecondition,
                      fmt::format("{}: not a snapshot name (<term:016x>-<index:016x>.snap)",
                                  (dir / name).string()));
      }
      out.snapshots.push_back(*snapshot);
    } else if (name == kVoteFileName) {
      out.has_vote = true;
    } else if (name == kLogLostFileName) {
      out.has_log_lost = true;
    }
  }
  std::sort(out.segments.begin(), out.segments.end(),
            [](const SegmentName& a, const SegmentName& b) { return a.seq < b.seq; });
  for (std::size_t i = 1; i < out.segments.size(); ++i) {
    if (out.segments[i].seq == out.segments[i - 1].seq) {
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("{}: two segments with sequence number {}", dir.string(),
                                out.segments[i].seq));
    }
  }
  std::sort(out.snapshots.begin(), out.snapshots.end(),
            [](const SnapshotName& a, const SnapshotName& b) {
              return std::pair(a.index, a.term) < std::pair(b.index, b.term);
            });
  return out;
}

struct ChosenSnapshot {
  raft::Snapshot snapshot;         // index 0: none
  std::vector<SnapshotName> kept;  // the good files, ascending index
  std::vector<SnapshotName> bad;   // newer than the one chosen, and failed their checks
};

// The newest snapshot that passes its checks; the newer ones that fail are reported.
Result<ChosenSnapshot> choose_snapshot(const fs::path& dir, std::vector<SnapshotName> names,
                                       RecoveryReport& report) {
  ChosenSnapshot out;
  // Bounded by the number of snapshot files listed.
  while (!names.empty()) {
    SnapshotName name = names.back();
    names.pop_back();
    std::string file = file_name(name);
    Result<std::string> bytes = read_file(dir / file, limits::kSnapshotMaxBytes + 64);
    if (!bytes && bytes.status().code() != StatusCode::kDataLoss) return bytes.status();
    Result<raft::Snapshot> snapshot =
        bytes ? decode_snapshot_file(*bytes) : Result<raft::Snapshot>(bytes.status());
    Status problem = snapshot.status();
    if (snapshot && (snapshot->index != name.index || snapshot->term != name.term)) {
      problem = data_loss(fmt::format("holds index {} term {}, not what its name says",
                                      snapshot->index.value, snapshot->term.value));
    }
    if (problem.is_ok()) {
      out.snapshot = std::move(snapshot).value();
      names.push_back(name);
      out.kept = std::move(names);
      return out;
    }
    if (!report.snapshot_problem.empty()) report.snapshot_problem += "; ";
    report.snapshot_problem += file + ": " + problem.message();
    out.bad.push_back(name);
  }
  return out;
}

struct WalScan {
  WalReplay replay;
  std::vector<std::uint64_t> sizes;  // per segment read, after the repairs below
  // The torn tail of the last segment, cut at sizes.back().
  std::optional<std::size_t> torn;
  // The first damage: segment index and offset. That segment is cut there (its bytes kept in
  // <name>.corrupt); the segments after it are moved aside whole.
  std::optional<std::size_t> damaged;
  std::uint64_t damaged_at = 0;
  std::string damaged_bytes;
};

// Replays every segment in order until the first damage.
Result<WalScan> scan_wal(const fs::path& dir, const std::vector<SegmentName>& segments,
                         RecoveryReport& report) {
  WalScan scan;
  auto damage = [&](std::size_t i, std::uint64_t offset, std::string bytes, std::string why) {
    scan.damaged = i;
    scan.damaged_at = offset;
    scan.damaged_bytes = std::move(bytes);
    report.corrupt = true;
    report.corruption = fmt::format("wal {}{}", file_name(segments[i]), why);
  };
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0 && segments[i].seq != segments[i - 1].seq + 1) {
      damage(
          i, 0, {},
          fmt::format(": follows sequence number {}: a segment is missing", segments[i - 1].seq));
      return scan;
    }
    Result<std::string> bytes =
        read_file(dir / file_name(segments[i]), limits::kWalMaxSegmentFileBytes);
    if (!bytes && bytes.status().code() != StatusCode::kDataLoss) return bytes.status();
    if (!bytes) {
      damage(i, 0, {}, ": " + bytes.status().message());
      return scan;
    }
    DecodedSegment decoded = decode_segment(*bytes);
    for (const WalRecord& record : decoded.records) {
      if (Status s = scan.replay.apply(record.value); !s.is_ok()) {
        damage(i, record.offset, std::move(bytes).value(),
               fmt::format(" offset {}: {}", record.offset, s.message()));
        return scan;
      }
    }
    scan.sizes.push_back(decoded.valid_bytes);
    if (decoded.end == SegmentEnd::kClean) continue;
    if (decoded.end == SegmentEnd::kTorn && i + 1 == segments.size()) {
      scan.torn = i;
      report.torn_bytes_truncated = bytes->size() - decoded.valid_bytes;
      continue;
    }
    scan.sizes.pop_back();
    damage(i, decoded.valid_bytes, std::move(bytes).value(), " " + decoded.problem);
    return scan;
  }
  return scan;
}

struct Log {
  std::vector<raft::Entry> entries;  // after the snapshot
  // The WAL does not continue the snapshot (it ends before it, or disagrees with it): the next
  // segment must start with a log start, or a later open() would not see the log continue.
  bool needs_log_start = false;
};

// The entries after `snapshot`, if the WAL reaches back to it. `bad_newer` are the snapshot
// files newer than it that failed their checks, for the message.
Result<Log> entries_after(const raft::Snapshot& snapshot, const std::vector<SnapshotName>& bad,
                          const std::vector<SegmentName>& segments, WalReplay& replay) {
  raft::LogIndex s = snapshot.index;
  raft::LogIndex base =
      replay.base().value_or(segments.empty() ? raft::LogIndex{} : segments.front().first.prev());
  if (s < base) {
    std::string newest = bad.empty() ? std::string("the newest snapshot")
                                     : fmt::format("snapshot {} is corrupt, and the one before",
                                                   file_name(bad.front()));
    return data_loss(fmt::format(
        "{} ends at index {}, but the WAL starts after index {}: entries {}..{} are lost; "
        "re-sync this server from the leader with an empty data directory",
        newest, s.value, base.value, s.value + 1, base.value));
  }
  raft::LogIndex last = replay.last_index();
  std::optional<raft::Term> term_at_s;
  if (s == base) {
    term_at_s = replay.base_term();
  } else if (s <= last) {
    term_at_s = replay.entries()[s.value - base.value - 1].term;
  }
  Log log;
  log.entries = replay.take_entries();
  if (s > base) {
    auto covered = static_cast<std::ptrdiff_t>(std::min(s.value, last.value) - base.value);
    log.entries.erase(log.entries.begin(), log.entries.begin() + covered);
  }
  bool agrees = !term_at_s || *term_at_s == snapshot.term;
  if (!agrees) log.entries.clear();  // a snapshot install was cut short: the snapshot wins
  log.needs_log_start =
      log.entries.empty() && s > raft::LogIndex{} && !(last == s && term_at_s == snapshot.term);
  return log;
}

// The hard state from the WAL, with term and vote from the vote file when it is newer: a vote
// given is never forgotten, even if the WAL record holding it is lost.
Result<raft::HardState> merge_vote(raft::HardState wal, const std::optional<Vote>& file) {
  if (!file || file->term < wal.term) return wal;
  if (file->term > wal.term) return raft::HardState{file->term, file->vote, wal.commit};
  if (wal.vote == raft::NodeId::kNone) return raft::HardState{wal.term, file->vote, wal.commit};
  if (file->vote != raft::NodeId::kNone && file->vote != wal.vote) {
    return data_loss(fmt::format("term {}: the vote file says vote {}, the WAL vote {}",
                                 wal.term.value, static_cast<std::uint64_t>(file->vote),
                                 static_cast<std::uint64_t>(wal.vote)));
  }
  return wal;
}

// The vote file's contents: nothing when there is none; a damaged file is reported and
// ignored, unless the WAL is damaged too (then the vote it held may be lost: data_loss).
Result<std::optional<Vote>> read_vote(const fs::path& dir, bool exists, RecoveryReport& report) {
  if (!exists) return std::optional<Vote>();
  Result<std::string> bytes = read_file(dir / kVoteFileName, 64);
  if (!bytes && bytes.status().code() != StatusCode::kDataLoss) return bytes.status();
  Result<Vote> vote = bytes ? decode_vote_file(*bytes) : Result<Vote>(bytes.status());
  if (vote) return std::optional<Vote>(*vote);
  if (report.corrupt) {
    return data_loss(
        fmt::format("{}: {}; and the WAL is damaged too ({}): the vote this server "
                    "gave may be lost",
                    (dir / kVoteFileName).string(), vote.status().message(), report.corruption));
  }
  report.vote_problem = std::string(kVoteFileName) + ": " + vote.status().message();
  return std::optional<Vote>();
}

// Cuts the damaged segment at the damage (its bytes kept in <name>.corrupt) and moves the
// segments after it aside.
Status repair_damage(const Syncer& syncer, const fs::path& dir,
                     const std::vector<SegmentName>& segments, const WalScan& scan) {
  std::size_t i = *scan.damaged;
  std::string name = file_name(segments[i]);
  if (scan.damaged_at == 0) {
    if (Status s = rename_file(dir / name, dir / (name + std::string(kCorruptSuffix)));
        !s.is_ok()) {
      return s;
    }
  } else {
    Status s =
        write_file_atomically(syncer, dir, name + std::string(kCorruptSuffix), scan.damaged_bytes);
    if (!s.is_ok()) return s;
    Result<File> file = File::open(dir / name, File::Open::kAppend);
    if (!file) return file.status();
    if (s = file->truncate(scan.damaged_at); !s.is_ok()) return s;
    if (s = file->sync(syncer); !s.is_ok()) return s;
  }
  for (std::size_t j = i + 1; j < segments.size(); ++j) {
    std::string later = file_name(segments[j]);
    if (Status s = rename_file(dir / later, dir / (later + std::string(kCorruptSuffix)));
        !s.is_ok()) {
      return s;
    }
  }
  return syncer.sync_dir(dir);
}

Status repair_torn(const Syncer& syncer, const fs::path& path, std::uint64_t size) {
  Result<File> file = File::open(path, File::Open::kAppend);
  if (!file) return file.status();
  if (Status s = file->truncate(size); !s.is_ok()) return s;
  return file->sync(syncer);
}

Status create_dir(const fs::path& dir, const Syncer& syncer) {
  std::error_code ec;
  bool created = fs::create_directories(dir, ec);
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{}: create directory: {}", dir.string(), ec.message()));
  }
  if (!created) return Status::ok();
  fs::path path = fs::absolute(dir).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "a/b/" names "a/b"
  return syncer.sync_dir(path.parent_path());
}

}  // namespace

struct DiskStorage::Recovered {
  Listing listing;
  ChosenSnapshot chosen;
  WalScan scan;
  std::optional<Vote> vote;  // as the file holds it
  bool vote_damaged = false;
  raft::HardState hard_state;
  bool log_start = false;
};

Result<std::unique_ptr<DiskStorage>> DiskStorage::open(const fs::path& dir, StorageOptions options,
                                                       raft::PersistentState& state,
                                                       RecoveryReport& report) {
  report = RecoveryReport{};
  if (options.segment_bytes == 0 || options.segment_bytes > limits::kWalSegmentBytes) {
    return invalid_argument(fmt::format("segment_bytes: {}, expected 1..{}", options.segment_bytes,
                                        limits::kWalSegmentBytes));
  }
  Syncer syncer(options.fsync ? Syncer::Mode::kSync : Syncer::Mode::kSkip);
  if (Status s = create_dir(dir, syncer); !s.is_ok()) return s;
  Result<DirLock> lock = DirLock::acquire(dir);
  if (!lock) return lock.status();

  Recovered found;
  Result<Listing> listing = list(dir);
  if (!listing) return listing.status();
  found.listing = std::move(listing).value();
  Result<ChosenSnapshot> chosen = choose_snapshot(dir, found.listing.snapshots, report);
  if (!chosen) return chosen.status();
  found.chosen = std::move(chosen).value();
  Result<WalScan> scan = scan_wal(dir, found.listing.segments, report);
  if (!scan) return scan.status();
  found.scan = std::move(scan).value();
  Result<std::optional<Vote>> vote = read_vote(dir, found.listing.has_vote, report);
  if (!vote) return vote.status();
  found.vote = *vote;
  found.vote_damaged = !report.vote_problem.empty();
  Result<raft::HardState> hard_state =
      merge_vote(found.scan.replay.hard_state().value_or(raft::HardState{}), found.vote);
  if (!hard_state) return hard_state.status();
  found.hard_state = *hard_state;
  Result<Log> log = entries_after(found.chosen.snapshot, found.chosen.bad, found.listing.segments,
                                  found.scan.replay);
  if (!log) return log.status();
  found.log_start = log->needs_log_start;

  std::unique_ptr<DiskStorage> storage(new DiskStorage(dir, options, std::move(lock).value()));
  storage->last_index_ =
      log->entries.empty() ? found.chosen.snapshot.index : log->entries.back().index;
  if (Status s = storage->resume(found); !s.is_ok()) return s;
  report.log_lost = storage->log_lost_;
  state.hard_state = found.hard_state;
  state.snapshot = std::move(found.chosen.snapshot);
  state.entries = std::move(log->entries);
  return storage;
}

// Repairs what open() found and readies the writer: the decisions are made, the disk follows.
Status DiskStorage::resume(Recovered& found) {
  const std::vector<SegmentName>& names = found.listing.segments;
  for (const SnapshotName& bad : found.chosen.bad) {
    std::string file = file_name(bad);
    Status s = rename_file(dir_ / file, dir_ / (file + std::string(kCorruptSuffix)));
    if (!s.is_ok()) return s;
  }
  snapshots_ = found.chosen.kept;
  const WalScan& scan = found.scan;
  if (scan.torn) {
    Status s = repair_torn(syncer_, dir_ / file_name(names[*scan.torn]), scan.sizes.back());
    if (!s.is_ok()) return s;
  }
  if (scan.damaged && !found.listing.has_log_lost) {
    // Before the repair hides the damage: a crash from here on must not forget the loss.
    Status s = write_file_atomically(syncer_, dir_, kLogLostFileName,
                                     "this server re-syncs its log from the leader\n");
    if (!s.is_ok()) return s;
  }
  log_lost_ = scan.damaged || found.listing.has_log_lost;
  if (scan.damaged) {
    if (Status s = repair_damage(syncer_, dir_, names, scan); !s.is_ok()) return s;
  }
  for (std::size_t i = 0; i < scan.sizes.size(); ++i) {
    segments_.push_back(Segment{names[i], scan.sizes[i]});
  }
  if (scan.damaged && scan.damaged_at > 0) {
    segments_.push_back(Segment{names[*scan.damaged], scan.damaged_at});
  }
  hard_state_ = found.hard_state;
  vote_ = found.vote.value_or(Vote{});
  Vote vote{hard_state_.term, hard_state_.vote};
  if (found.vote_damaged || vote != vote_) {
    if (Status s = write_vote(vote); !s.is_ok()) return s;
  }
  if (segments_.empty() || scan.damaged || found.log_start) {
    // A fresh segment whose header records the recovered hard state (and log start).
    std::optional<LogStart> start;
    if (found.log_start) start = LogStart{found.chosen.snapshot.index, found.chosen.snapshot.term};
    if (Status s = roll(start); !s.is_ok()) return s;
    return commit();
  }
  Result<File> file = File::open(dir_ / file_name(segments_.back().name), File::Open::kAppend);
  if (!file) return file.status();
  current_ = std::move(file).value();
  return Status::ok();
}

}  // namespace spofless::storage
