// admin_fixture: a test-only server for tests/integration/admin_test.cc. It is a minimal
// long-running role built on roles::ServerRuntime: admin routes, a drain that takes
// --drain-ms, and one metric of each type so that promtool sees every one. Not installed.

#include <chrono>
#include <cstdint>
#include <memory>

#include <CLI/CLI.hpp>
#include <boost/asio/steady_timer.hpp>

#include "obs/log.h"
#include "roles/common/cli.h"
#include "roles/common/server_runtime.h"

int main(int argc, char** argv) {
  using namespace spofless;
  CLI::App app{"Test-only server with the admin routes of every spofless role.", "admin_fixture"};
  std::string admin;
  std::uint32_t drain_ms = 0;
  roles::LogOptions log_options;
  app.add_option("--admin", admin, "Admin address HOST:PORT (port 0: ephemeral)")->required();
  app.add_option("--drain-ms", drain_ms, "How long the drain takes, in milliseconds")
      ->capture_default_str();
  roles::add_log_options(app, log_options);
  CLI11_PARSE(app, argc, argv);

  if (Status s = roles::apply_log_options(log_options, "fixture"); !s.is_ok()) {
    obs::error("fixture.bad_flags", {{"error", s.to_string()}});
    return roles::kExitUsage;
  }
  roles::ServerRuntime runtime("fixture");
  obs::Counter& drains =
      runtime.registry().counter("spofless_fixture_drains_total", "Drains the fixture started.");
  obs::Histogram& drain_seconds = runtime.registry().histogram(
      "spofless_fixture_drain_seconds", "How long the fixture's drains took.", {0.1, 1, 10});
  if (Status s = runtime.start_admin(admin); !s.is_ok()) {
    obs::error("fixture.admin_failed", {{"error", s.to_string()}});
    return roles::kExitUsage;
  }
  runtime.set_status_handler([drain_ms] { return nlohmann::json{{"drain_ms", drain_ms}}; });

  boost::asio::steady_timer drain_timer(runtime.io());
  runtime.on_drain([&](std::function<void()> done) {
    drains.inc();
    drain_timer.expires_after(std::chrono::milliseconds(drain_ms));
    drain_timer.async_wait([&, done](const boost::system::error_code&) {
      drain_seconds.observe(drain_ms / 1000.0);
      done();
    });
  });
  return runtime.run();
}
