#include "support/subprocess.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"

extern char** environ;

namespace spofless::test_support {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// While the child runs, stderr is polled in slices this long between exit checks.
constexpr milliseconds kExitPollSlice{10};

milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return std::max(left, milliseconds(0));
}

ExitStatus decode(int wait_status) {
  if (WIFEXITED(wait_status)) return {true, WEXITSTATUS(wait_status), 0};
  return {false, 0, WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0};
}

// Spawns with stdin from `options.stdin_path` and stderr (and maybe stdout) into `pipe_write`.
int spawn_child(pid_t& pid, const std::string& path, const std::vector<std::string>& args,
                const Subprocess::Options& options, int pipe_write) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, options.stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_write, 2);
  if (options.stdout_to == Subprocess::StdoutTo::kStderrPipe) {
    posix_spawn_file_actions_adddup2(&actions, pipe_write, 1);
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The child starts with no blocked signals and default SIGTERM/SIGINT actions, whatever
  // the test runner left to this process, so that the signals a test sends arrive.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int error = posix_spawn(&pid, path.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return error;
}

}  // namespace

std::string ExitStatus::to_string() const {
  if (exited) return fmt::format("exit code {}", code);
  const char* name = sigabbrev_np(signal);
  return fmt::format("signal SIG{}", name != nullptr ? name : std::to_string(signal).c_str());
}

Result<std::unique_ptr<Subprocess>> Subprocess::spawn(const std::string& path,
                                                      const std::vector<std::string>& args,
                                                      const Options& options) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return unavailable(fmt::format("pipe: {}", std::strerror(errno)));
  }
  pid_t pid = 0;
  int error = spawn_child(pid, path, args, options, fds[1]);
  close(fds[1]);
  if (error != 0) {
    close(fds[0]);
    return unavailable(fmt::format("spawn {}: {}", path, std::strerror(error)));
  }
  return std::unique_ptr<Subprocess>(new Subprocess(pid, fds[0]));
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int ignored = 0;
    while (waitpid(pid_, &ignored, 0) < 0 && errno == EINTR) {
    }
  }
  close(stderr_fd_);
}

void Subprocess::read_stderr(milliseconds timeout) {
  if (eof_) return;
  pollfd pfd{stderr_fd_, POLLIN, 0};
  int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return;
  char chunk[4096];
  ssize_t n = read(stderr_fd_, chunk, sizeof chunk);
  if (n <= 0) {
    if (n == 0 || errno != EINTR) eof_ = true;
    return;
  }
  partial_.append(chunk, static_cast<std::size_t>(n));
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines_.push_back(partial_.substr(start, nl - start));
  }
  partial_.erase(0, start);
}

Result<std::string> Subprocess::wait_for_line(const std::function<bool(std::string_view)>& match,
                                              milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    for (; next_line_ < lines_.size(); ++next_line_) {
      if (match(lines_[next_line_])) return lines_[next_line_++];
    }
    if (eof_) {
      return unavailable(fmt::format("stderr closed before the line; output:\n{}", output()));
    }
    if (Clock::now() >= deadline) {
      return Status(
          StatusCode::kDeadlineExceeded,
          fmt::format("no matching line within {} ms; output:\n{}", timeout.count(), output()));
    }
    read_stderr(remaining(deadline));
  }
}

Status Subprocess::send_signal(int signal_number) {
  SPOFLESS_CHECK(!reaped_, "a reaped pid may belong to another process by now");
  if (kill(pid_, signal_number) != 0) {
    return unavailable(fmt::format("kill {}: {}", pid_, std::strerror(errno)));
  }
  return Status::ok();
}

Result<ExitStatus> Subprocess::wait_for_exit(milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    int wait_status = 0;
    pid_t done = waitpid(pid_, &wait_status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      while (!eof_ && Clock::now() < deadline) read_stderr(remaining(deadline));
      return decode(wait_status);
    }
    if (done < 0 && errno != EINTR) {
      return internal_error(fmt::format("waitpid {}: {}", pid_, std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("pid {} still running after {} ms; output:\n{}", pid_,
                                timeout.count(), output()));
    }
    milliseconds slice = std::min(kExitPollSlice, remaining(deadline));
    if (eof_) {
      poll(nullptr, 0, static_cast<int>(slice.count()));
    } else {
      read_stderr(slice);
    }
  }
}

std::string Subprocess::output() const {
  std::string out;
  for (const std::string& line : lines_) out += line + "\n";
  return out + partial_;
}

}  // namespace spofless::test_support
