#pragma once

// What every long-running role's main uses: one io_context, the metrics registry, the admin
// server and the signal-driven drain, wired together.
//
//   roles::ServerRuntime runtime("cache");
//   if (Status s = runtime.start_admin(options.admin); !s.is_ok()) { ...; return kExitUsage; }
//   runtime.set_ready_handler([&](std::string_view) { return io::Readiness::ready(); });
//   runtime.on_drain([&](auto done) { server.stop_accepting(std::move(done)); });
//   return runtime.run();
//
// A drain, on SIGTERM or SIGINT: /ready turns 503 "draining" at once, then the role's drain
// callback runs; when it calls done (or the drain is cut short, see io/signals.h) the admin
// server closes and run() returns.
//
// Thread model: construct, configure and run() on one thread, which then is the io_context
// thread; handlers and callbacks run on it. Roles that want more threads post to io().

#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "core/status.h"
#include "io/admin_server.h"
#include "io/signals.h"
#include "obs/metrics.h"

namespace spofless::roles {

class ServerRuntime {
 public:
  // Catches SIGTERM and SIGINT from here on, so that a signal during start-up is not lost.
  explicit ServerRuntime(std::string role);

  ServerRuntime(const ServerRuntime&) = delete;
  ServerRuntime& operator=(const ServerRuntime&) = delete;

  boost::asio::io_context& io() { return io_; }
  obs::Registry& registry() { return registry_; }

  // Parses HOST:PORT and serves the admin routes there. Fails with invalid_argument for a
  // bad address and unavailable when it cannot be bound.
  Status start_admin(std::string_view host_port);
  // The bound admin address. REQUIRES: start_admin() succeeded.
  boost::asio::ip::tcp::endpoint admin_endpoint() const { return admin_.local_endpoint(); }

  void set_ready_handler(io::ReadyHandler handler);
  void set_status_handler(io::StatusHandler handler);
  // The role's part of a drain; unset, the drain ends at once.
  void on_drain(io::SignalDrain::DrainCallback drain);

  // Runs the io_context until a drain ends or the io_context runs out of work. Logs
  // `role.started` and `role.stopped drain=completed|timeout|abandoned|none`. Returns the
  // process exit code: kExitOk after every signal-driven stop (see io/signals.h for why).
  int run();

 private:
  void drain(std::function<void()> done);

  const std::string role_;
  // Declared before io_ so that it outlives handlers destroyed with the io_context.
  obs::Registry registry_;
  boost::asio::io_context io_;
  io::AdminServer admin_;
  io::SignalDrain::DrainCallback role_drain_;
  io::SignalDrain signals_;
};

}  // namespace spofless::roles
