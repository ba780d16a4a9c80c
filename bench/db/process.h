#pragma once

// The server processes the bench starts, and the loopback ports it gives them.
//
// Thread model: a ChildProcess belongs to the main thread, the one that spawned it (the child's
// PR_SET_PDEATHSIG fires when the spawning thread ends, so spawn only from the main thread).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/result.h"

namespace spofless::bench {

// One process the bench started. The bench signals only this pid, and reaps it. The child
// runs in a process group of its own (a Ctrl-C at the terminal reaches the bench alone, which
// then stops its children) and gets SIGKILL if the bench dies first.
class ChildProcess {
 public:
  // Starts argv[0] (a path, not looked up in PATH) with `argv`, stdout and stderr appended to
  // `log_path`. Fails with unavailable when the log cannot be opened or exec fails (the
  // message names the program and errno).
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                    const std::string& log_path);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // kill_now() if still running

  pid_t pid() const { return pid_; }
  // False once the process was reaped: it exited, or was stopped or killed by the bench.
  bool running();
  // How it ended ("exit 1", "signal 9"); empty while running.
  const std::string& ended_how() const { return ended_how_; }

  // kill -9 and reap. Returns once the process is gone.
  void kill_now();
  // SIGTERM; SIGKILL if it has not exited after `grace`. Returns once reaped.
  void stop(std::chrono::milliseconds grace);
  // User plus system CPU seconds so far, from /proc/<pid>/stat; 0 once reaped.
  double cpu_seconds() const;

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  void reaped(int wait_status);

  pid_t pid_ = -1;  // -1: moved from or reaped
  std::string ended_how_;
};

// `count` distinct free TCP ports on 127.0.0.1, found by binding port 0 and releasing it.
// Another program may take one before the server binds it; the server's start then fails
// loudly rather than measuring the wrong thing.
Result<std::vector<std::uint16_t>> free_loopback_ports(std::size_t count);

}  // namespace spofless::bench
