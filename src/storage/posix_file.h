#pragma once

// Thin POSIX file wrappers for the storage: every failure comes back as a Status naming the
// path and the call ("/data/x.wal: fdatasync: Input/output error"). Out of space is
// resource_exhausted; every other error failed_precondition: the disk or the directory must
// be fixed before trying again.
//
// Thread model: a File or DirLock belongs to one thread; the free functions are reentrant.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace spofless::storage {

// Makes files durable, or pretends to when disabled (tests that need no crash safety), and
// reports how long every fsync took.
class Syncer {
 public:
  enum class Mode { kSync, kSkip };
  explicit Syncer(Mode mode) : mode_(mode) {}

  void on_fsync(std::function<void(std::chrono::nanoseconds)> observe) {
    observe_ = std::move(observe);
  }
  // fdatasync: the data and whatever metadata reading it back needs (the size).
  Status sync_file(int fd, const std::filesystem::path& path) const;
  // fsync of a directory: makes file creations, renames and removals in it durable.
  Status sync_dir(const std::filesystem::path& dir) const;

 private:
  Status timed(int fd, bool data_only, const std::filesystem::path& path) const;

  Mode mode_;
  std::function<void(std::chrono::nanoseconds)> observe_;
};

// An open file descriptor, closed on destruction. Move-only.
class File {
 public:
  enum class Open { kAppend, kCreateNew };
  // kAppend: an existing file, writes go to its end. kCreateNew: fails if the file exists.
  static Result<File> open(const std::filesystem::path& path, Open how);

  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  // Writes all of `bytes` at the end of the file.
  Status append(std::string_view bytes);
  Status truncate(std::uint64_t size);
  Status sync(const Syncer& syncer) { return syncer.sync_file(fd_, path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

  int fd_ = -1;
  std::filesystem::path path_;
};

// An exclusive flock() on DIR/LOCK, held while the object lives: one process per directory.
class DirLock {
 public:
  // unavailable when another process holds the lock.
  static Result<DirLock> acquire(const std::filesystem::path& dir);

  DirLock(DirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirLock& operator=(DirLock&&) = delete;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The whole file. data_loss when it is larger than `max_bytes` (it cannot be what this
// storage wrote).
Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// Replaces DIR/NAME with `bytes` atomically and durably: DIR/NAME.tmp written and synced,
// renamed over DIR/NAME, DIR synced. A crash leaves the old file or the new one.
Status write_file_atomically(const Syncer& syncer, const std::filesystem::path& dir,
                             std::string_view name, std::string_view bytes);

Status rename_file(const std::filesystem::path& from, const std::filesystem::path& to);
Status remove_file(const std::filesystem::path& path);

// The names in `dir` (files and anything else), at most `max_entries`: more is an error.
Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir,
                                          std::size_t max_entries);

}  // namespace spofless::storage
