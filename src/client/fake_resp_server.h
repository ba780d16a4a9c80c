#pragma once

// A scripted RESP2 server on 127.0.0.1 for the client's unit tests: every command it receives
// is recorded and handed to the test's script, whose Reply says what to do (answer, close the
// connection, or stay silent so that the client times out). Test-only.
//
// Thread model: the server runs its own thread, which calls the script; received() and
// connections() may be called from any thread. The destructor stops and joins the thread.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/host_port.h"
#include "core/result.h"
#include "proto/resp.h"

namespace spofless::client::fake {

struct Reply {
  enum class Action { kSend, kClose, kSilent };
  Action action = Action::kSend;
  std::string bytes;  // kSend: RESP2, sent as is

  static Reply value(const proto::RespValue& v);
  static Reply ok() { return value(proto::resp_simple("OK")); }
  static Reply error(std::string message) { return value(proto::resp_error(std::move(message))); }
  static Reply integer(long long n) { return value(proto::resp_integer(n)); }
  static Reply close() { return {Action::kClose, {}}; }
  static Reply silent() { return {Action::kSilent, {}}; }
};

// Called once per command, on the server's thread, in the order commands arrive.
using Script = std::function<Reply(const std::vector<std::string>& argv)>;

class RespServer {
 public:
  static Result<std::unique_ptr<RespServer>> start(Script script);
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  HostPort address() const { return {"127.0.0.1", port_}; }
  // Every command received so far, in order, over all connections.
  std::vector<std::vector<std::string>> received() const;
  std::size_t connections() const { return connections_.load(); }

 private:
  RespServer(int listen_fd, int wake_read, int wake_write, std::uint16_t port, Script script);
  void serve();
  // Reads from one connection and answers what it completes. False: close it.
  bool serve_connection(int fd, proto::RespRequestParser& parser);

  int listen_fd_;
  int wake_read_;
  int wake_write_;
  std::uint16_t port_;
  Script script_;
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> received_;  // guarded by mutex_
  std::atomic<std::size_t> connections_{0};
  std::thread thread_;
};

// A port on 127.0.0.1 that refuses connections: bound, never listening, for as long as the
// object lives, so no other process can take it meanwhile.
class RefusingPort {
 public:
  static Result<std::unique_ptr<RefusingPort>> open();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  HostPort address() const { return {"127.0.0.1", port_}; }

 private:
  RefusingPort(int fd, std::uint16_t port) : fd_(fd), port_(port) {}
  int fd_;
  std::uint16_t port_;
};

}  // namespace spofless::client::fake
