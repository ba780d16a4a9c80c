#include "db/node_process.h"

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

namespace spofless::db_test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often a wait for exit looks again; waitpid has no timeout of its own.
constexpr milliseconds kExitPollInterval{10};

test_support::ExitStatus decode(int wait_status) {
  if (WIFEXITED(wait_status)) return {true, WEXITSTATUS(wait_status), 0};
  return {false, 0, WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0};
}

}  // namespace

Result<std::unique_ptr<NodeProcess>> NodeProcess::spawn(const std::string& path,
                                                        const std::vector<std::string>& args,
                                                        const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // No blocked signals and default actions in the child, whatever the test runner left here,
  // so that the SIGSTOP / SIGCONT / SIGKILL a test sends behave as documented.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int error = posix_spawn(&pid, path.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return unavailable(fmt::format("spawn {}: {}", path, std::strerror(error)));
  return std::unique_ptr<NodeProcess>(new NodeProcess(pid));
}

NodeProcess::~NodeProcess() {
  if (reaped_) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGKILL);
  int ignored = 0;
  while (waitpid(pid_, &ignored, 0) < 0 && errno == EINTR) {
  }
}

bool NodeProcess::exited_unreaped() const {
  if (reaped_) return false;
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

Status NodeProcess::send_signal(int signal_number) {
  SPOFLESS_CHECK(!reaped_, "a reaped pid may belong to another process by now");
  if (kill(pid_, signal_number) != 0) {
    return unavailable(fmt::format("kill -{} {}: {}", signal_number, pid_, std::strerror(errno)));
  }
  return Status::ok();
}

Status NodeProcess::kill_and_reap(milliseconds timeout) {
  if (Status s = send_signal(SIGCONT); !s.is_ok()) return s;
  if (Status s = send_signal(SIGKILL); !s.is_ok()) return s;
  Result<test_support::ExitStatus> exit = wait_for_exit(timeout);
  return exit.status();
}

Result<test_support::ExitStatus> NodeProcess::wait_for_exit(milliseconds timeout) {
  SPOFLESS_CHECK(!reaped_, "a child is reaped once");
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    int wait_status = 0;
    pid_t done = waitpid(pid_, &wait_status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      return decode(wait_status);
    }
    if (done < 0 && errno != EINTR) {
      return internal_error(fmt::format("waitpid {}: {}", pid_, std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("pid {} still running after {} ms", pid_, timeout.count()));
    }
    poll(nullptr, 0, static_cast<int>(kExitPollInterval.count()));
  }
}

}  // namespace spofless::db_test
