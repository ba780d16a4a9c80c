#pragma once

// One server process started by a test, its stdout and stderr appended to a log file so that
// a chatty server never blocks on a full pipe and its log survives a restart.
//
// Thread model: one thread uses a NodeProcess at a time.
// Lifetime: the destructor continues (SIGCONT), kills (SIGKILL) and reaps the child if it has
// not been reaped, so a failing test leaves no process behind. It only ever signals its own
// pid, and never after reaping it (the pid may belong to another process by then).

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/result.h"
#include "support/subprocess.h"

namespace spofless::db_test {

class NodeProcess {
 public:
  // Starts `path` with `args` as argv[1..], stdin from /dev/null, output appended to `log`.
  static Result<std::unique_ptr<NodeProcess>> spawn(const std::string& path,
                                                    const std::vector<std::string>& args,
                                                    const std::filesystem::path& log);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool reaped() const { return reaped_; }
  // True when the child has exited (or died) but was not reaped yet: a node that failed at
  // start-up, say. Does not reap it.
  bool exited_unreaped() const;

  // REQUIRES: !reaped().
  Status send_signal(int signal_number);
  // SIGKILL (after SIGCONT, so that a stopped child dies at once) and reap.
  Status kill_and_reap(std::chrono::milliseconds timeout);
  // Waits for the child to exit by itself, and reaps it.
  Result<test_support::ExitStatus> wait_for_exit(std::chrono::milliseconds timeout);

 private:
  explicit NodeProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_;
  bool reaped_ = false;
};

}  // namespace spofless::db_test
