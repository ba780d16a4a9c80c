#pragma once

// The admin HTTP endpoint every role mounts on `--admin HOST:PORT`:
//   /health   200 "ok\n" while the process serves, draining included.
//   /ready    200 "ready\n"; 503 with the ready handler's reason; 503 "draining\n" once
//             start_draining() was called. The query string (/ready?lag=500) goes to the
//             handler; routing ignores it.
//   /metrics  the registry in the Prometheus text format, version 0.0.4.
//   /status   JSON: role, version, pid, uptime_seconds, ready, ready_reason, and the status
//             handler's object under "role_status".
// Every route answers GET and HEAD; other methods get 405 with "Allow: GET, HEAD", unknown
// paths 404. A malformed request gets 400 (431 for oversized headers, 413 for an oversized
// body) and its connection is closed; other connections are unaffected.
//
// Bounded: at most AdminLimits::max_connections open connections (more are closed at once
// and counted in spofless_admin_connections_rejected_total), request headers and body of at
// most request_max_bytes each, and a connection idle for idle_timeout is closed.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "core/limits.h"
#include "core/status.h"
#include "obs/metrics.h"

namespace spofless::io {

struct Readiness {
  static Readiness ready() { return {true, {}}; }
  static Readiness not_ready(std::string reason) { return {false, std::move(reason)}; }

  bool is_ready = true;
  std::string reason;  // why the role cannot serve; empty when ready
};

// Whether the role can serve. `query` is the /ready query string without '?', e.g. "lag=500",
// or empty. Called on the io_context thread; must not block or throw.
using ReadyHandler = std::function<Readiness(std::string_view query)>;
// The role's own facts for /status, an object. Same contract as ReadyHandler.
using StatusHandler = std::function<nlohmann::json()>;

struct AdminHandlers {
  ReadyHandler ready;    // unset: always ready
  StatusHandler status;  // unset: an empty object
};

// Defaults are the production limits; tests shrink them to reach the edges quickly.
struct AdminLimits {
  std::size_t max_connections = limits::kAdminMaxConnections;
  std::size_t request_max_bytes = limits::kAdminRequestMaxBytes;
  std::chrono::milliseconds idle_timeout{limits::kAdminIdleTimeoutMs};
};

// Thread model: single-threaded. The server belongs to the thread that runs `io`; call every
// member function on that thread, or before `io` runs. Handlers run on that thread too.
// Lifetime: `io` and `registry` must outlive the server. Connection coroutines still pending
// when the server is destroyed hold its shared state, never the server itself, and end when
// `io` runs them to completion or is destroyed.
class AdminServer {
 public:
  // Declares the server's metrics in `registry`: spofless_admin_requests_total{path,code},
  // spofless_admin_connections_rejected_total, spofless_admin_connections_open,
  // spofless_build_info{role,version} and process_start_time_seconds.
  AdminServer(boost::asio::io_context& io, obs::Registry& registry, AdminHandlers handlers,
              std::string role, std::string version, AdminLimits limits = {});
  ~AdminServer();  // stop()

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds, listens and starts accepting; logs `admin.listening addr=IP:PORT` with the bound
  // port. Fails with unavailable when the address is taken or cannot be bound.
  // REQUIRES: called at most once, before stop().
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // The bound address, with the kernel's choice for port 0. REQUIRES: listen() succeeded.
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  void set_ready_handler(ReadyHandler handler);
  void set_status_handler(StatusHandler handler);

  // From now on /ready answers 503 "draining\n" and /status says not ready; every other
  // route is unchanged, so that load balancers see the drain and scrapes still work.
  // Idempotent; there is no way back.
  void start_draining();
  bool draining() const;

  // Closes the acceptor and every open connection, dropping responses in flight.
  // Idempotent.
  void stop();

 private:
  class State;
  std::shared_ptr<State> state_;  // shared with the accept and connection coroutines
};

}  // namespace spofless::io
