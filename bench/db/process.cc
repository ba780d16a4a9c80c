#include "bench/db/process.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"

namespace spofless::bench {
namespace {

// In the child between fork and exec: async-signal-safe calls only. Reports errno on the
// close-on-exec pipe when something fails; exec closes the pipe, which the parent reads as
// success.
[[noreturn]] void report_errno_and_exit(int report_fd) {
  int err = errno;
  ssize_t written = write(report_fd, &err, sizeof err);
  (void)written;
  _exit(127);
}

[[noreturn]] void exec_child(char* const* argv, int log_fd, int report_fd, pid_t parent) {
  auto fail = [report_fd]() { report_errno_and_exit(report_fd); };
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
  if (getppid() != parent) _exit(127);  // the bench died before prctl took effect
  if (setpgid(0, 0) != 0) fail();
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) fail();
  if (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0) fail();
  // Signals the bench blocks or ignores must not carry over into the server.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  execv(argv[0], argv);
  report_errno_and_exit(report_fd);
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const std::string& log_path) {
  SPOFLESS_CHECK(!argv.empty(), "a program to run");
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return unavailable(fmt::format("open {}: {}", log_path, std::strerror(errno)));
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    close(log_fd);
    return unavailable(fmt::format("pipe: {}", std::strerror(errno)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) exec_child(c_argv.data(), log_fd, report[1], parent);
  int fork_errno = errno;
  close(log_fd);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return unavailable(fmt::format("fork for {}: {}", argv[0], std::strerror(fork_errno)));
  }
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  ChildProcess child(pid);
  if (n > 0) {
    child.kill_now();
    return unavailable(fmt::format("cannot run {}: {}", argv[0], std::strerror(child_errno)));
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), ended_how_(std::move(other.ended_how_)) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) kill_now();
    pid_ = other.pid_;
    ended_how_ = std::move(other.ended_how_);
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) kill_now();
}

void ChildProcess::reaped(int wait_status) {
  ended_how_ = WIFSIGNALED(wait_status) ? fmt::format("signal {}", WTERMSIG(wait_status))
                                        : fmt::format("exit {}", WEXITSTATUS(wait_status));
  pid_ = -1;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int wait_status = 0;
  pid_t r = waitpid(pid_, &wait_status, WNOHANG);
  if (r == pid_) reaped(wait_status);
  return pid_ > 0;
}

void ChildProcess::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int wait_status = 0;
  pid_t r = 0;
  do {
    r = waitpid(pid_, &wait_status, 0);
  } while (r < 0 && errno == EINTR);
  reaped(wait_status);
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return;
  kill(pid_, SIGTERM);
  // Polling waitpid is the portable way to wait for a child with a deadline; the step is
  // short next to any server's shutdown.
  constexpr std::chrono::milliseconds kStep{10};
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kStep);
  }
  kill_now();
}

double ChildProcess::cpu_seconds() const {
  if (pid_ <= 0) return 0;
  std::ifstream in(fmt::format("/proc/{}/stat", pid_));
  std::string line;
  if (!std::getline(in, line)) return 0;
  // The command name (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'.
  std::size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 1));
  std::string skip;
  for (int field = 3; field < 14 && (fields >> skip); ++field) {
  }
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  if (!(fields >> utime >> stime)) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Result<std::vector<std::uint16_t>> free_loopback_ports(std::size_t count) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  Status failed;
  for (std::size_t i = 0; i < count && failed.is_ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      failed = unavailable(fmt::format("socket: {}", std::strerror(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      failed = unavailable(fmt::format("bind 127.0.0.1:0: {}", std::strerror(errno)));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  // Every socket stays bound until all ports are known, so the kernel hands out distinct ones.
  for (int fd : fds) close(fd);
  if (!failed.is_ok()) return failed;
  return ports;
}

}  // namespace spofless::bench
