#pragma once

// A child process for tests that run real binaries: spawned by path, its stderr read
// through a pipe line by line, every wait bounded by a timeout.
//
// Thread model: one thread uses a Subprocess at a time.
// Lifetime: the destructor kills (SIGKILL) and reaps the child if it is still running, so
// that a test failing midway leaves no process behind. It only ever signals its own pid.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "core/result.h"

namespace spofless::test_support {

struct ExitStatus {
  bool exited = false;  // true: exit code in `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;

  bool ok() const { return exited && code == 0; }
  // "exit code 3", "signal SIGKILL".
  std::string to_string() const;
};

class Subprocess {
 public:
  enum class StdoutTo { kInherit, kStderrPipe };

  struct Options {
    std::string stdin_path = "/dev/null";
    StdoutTo stdout_to = StdoutTo::kInherit;
  };

  // Starts `path` with `args` as argv[1..] and this process's environment.
  static Result<std::unique_ptr<Subprocess>> spawn(const std::string& path,
                                                   const std::vector<std::string>& args,
                                                   const Options& options);
  static Result<std::unique_ptr<Subprocess>> spawn(const std::string& path,
                                                   const std::vector<std::string>& args) {
    return spawn(path, args, Options{});
  }

  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Reads stderr until a line (without its '\n') after the last line returned here
  // satisfies `match`, and returns it. Fails with deadline_exceeded after `timeout`, or with
  // unavailable when stderr closed first; the message then ends with the output so far.
  Result<std::string> wait_for_line(const std::function<bool(std::string_view)>& match,
                                    std::chrono::milliseconds timeout);

  // REQUIRES: the child has not been reaped.
  Status send_signal(int signal_number);

  // Waits for the child to exit, reading the rest of its stderr, and reaps it.
  Result<ExitStatus> wait_for_exit(std::chrono::milliseconds timeout);

  // Every stderr line read so far, and the same joined by '\n' for failure messages.
  const std::vector<std::string>& lines() const { return lines_; }
  std::string output() const;

 private:
  Subprocess(pid_t pid, int stderr_fd) : pid_(pid), stderr_fd_(stderr_fd) {}

  // Waits up to `timeout` for stderr to be readable, then reads what is there.
  void read_stderr(std::chrono::milliseconds timeout);

  pid_t pid_;
  int stderr_fd_;
  bool eof_ = false;
  bool reaped_ = false;
  std::string partial_;  // the start of a line whose '\n' has not arrived
  std::vector<std::string> lines_;
  std::size_t next_line_ = 0;  // wait_for_line looks from here on
};

}  // namespace spofless::test_support
