#include "storage/posix_file.h"

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/layout.h"

namespace spofless::storage {
namespace {

Status io_error(const std::filesystem::path& path, std::string_view call, int err) {
  std::string message = fmt::format("{}: {}: {}", path.string(), call, std::strerror(err));
  if (err == ENOSPC || err == EDQUOT || err == EMFILE || err == ENFILE) {
    return resource_exhausted(std::move(message));
  }
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

// Closes `fd`, keeping errno intact for the caller's message.
void close_quietly(int fd) {
  int saved = errno;
  ::close(fd);
  errno = saved;
}

}  // namespace

Status Syncer::sync_file(int fd, const std::filesystem::path& path) const {
  return timed(fd, true, path);
}

Status Syncer::sync_dir(const std::filesystem::path& dir) const {
  if (mode_ == Mode::kSkip) return Status::ok();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(dir, "open", errno);
  Status s = timed(fd, false, dir);
  ::close(fd);
  return s;
}

Status Syncer::timed(int fd, bool data_only, const std::filesystem::path& path) const {
  if (mode_ == Mode::kSkip) return Status::ok();
  auto start = std::chrono::steady_clock::now();
  int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
  int err = errno;
  if (observe_) observe_(std::chrono::steady_clock::now() - start);
  if (rc != 0) return io_error(path, data_only ? "fdatasync" : "fsync", err);
  return Status::ok();
}

Result<File> File::open(const std::filesystem::path& path, Open how) {
  int flags = O_WRONLY | O_CLOEXEC;
  flags |= how == Open::kAppend ? O_APPEND : (O_CREAT | O_EXCL);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return io_error(path, "open", errno);
  return File(fd, path);
}

File::File(File&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Status File::append(std::string_view bytes) {
  // Bounded: every turn writes at least one byte or returns; EINTR writes none and retries.
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path_, "write", errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

Status File::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error(path_, "ftruncate", errno);
  return Status::ok();
}

Result<DirLock> DirLock::acquire(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / kLockFileName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(path, "open", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return unavailable(fmt::format("{}: held by another process", path.string()));
    }
    return io_error(path, "flock", err);
  }
  return DirLock(fd);
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error(path, "open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    close_quietly(fd);
    return io_error(path, "fstat", errno);
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    return Status(StatusCode::kDataLoss, fmt::format("{}: {} bytes, more than the limit {}",
                                                     path.string(), size, max_bytes));
  }
  std::string bytes(size, '\0');
  std::size_t done = 0;
  // Bounded: every turn reads at least one byte, or stops at the end of the file.
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close_quietly(fd);
      return io_error(path, "read", errno);
    }
    if (n == 0) break;  // shrank since fstat: what was there is what we have
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

Status write_file_atomically(const Syncer& syncer, const std::filesystem::path& dir,
                             std::string_view name, std::string_view bytes) {
  std::filesystem::path target = dir / std::string(name);
  std::filesystem::path tmp = dir / (std::string(name) + std::string(kTmpSuffix));
  (void)::unlink(tmp.c_str());  // a leftover of a crash
  Result<File> file = File::open(tmp, File::Open::kCreateNew);
  if (!file) return file.status();
  if (Status s = file->append(bytes); !s.is_ok()) return s;
  if (Status s = file->sync(syncer); !s.is_ok()) return s;
  if (Status s = rename_file(tmp, target); !s.is_ok()) return s;
  return syncer.sync_dir(dir);
}

Status rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return io_error(from, fmt::format("rename to {}", to.string()), errno);
  }
  return Status::ok();
}

Status remove_file(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error(path, "unlink", errno);
  return Status::ok();
}

Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir,
                                          std::size_t max_entries) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return io_error(dir, "opendir", errno);
  std::vector<std::string> names;
  // Bounded by max_entries.
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(d);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (names.size() == max_entries) {
      ::closedir(d);
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("{}: more than {} entries: not a data directory this server "
                                "wrote",
                                dir.string(), max_entries));
    }
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return io_error(dir, "readdir", err);
  return names;
}

}  // namespace spofless::storage
