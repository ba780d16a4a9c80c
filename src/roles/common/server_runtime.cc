#include "roles/common/server_runtime.h"

#include <unistd.h>

#include "io/address.h"
#include "obs/log.h"
#include "roles/common/cli.h"

namespace spofless::roles {

ServerRuntime::ServerRuntime(std::string role)
    : role_(std::move(role)),
      admin_(io_, registry_, io::AdminHandlers{}, role_, std::string(version())),
      signals_(io_, [this](std::function<void()> done) { drain(std::move(done)); }) {}

Status ServerRuntime::start_admin(std::string_view host_port) {
  auto endpoint = io::parse_listen_address(host_port, "admin address");
  if (!endpoint) return endpoint.status();
  return admin_.listen(*endpoint);
}

void ServerRuntime::set_ready_handler(io::ReadyHandler handler) {
  admin_.set_ready_handler(std::move(handler));
}

void ServerRuntime::set_status_handler(io::StatusHandler handler) {
  admin_.set_status_handler(std::move(handler));
}

void ServerRuntime::on_drain(io::SignalDrain::DrainCallback drain) {
  role_drain_ = std::move(drain);
}

void ServerRuntime::drain(std::function<void()> done) {
  admin_.start_draining();
  obs::info("drain.started");
  if (!role_drain_) {
    done();
    return;
  }
  role_drain_(std::move(done));
}

int ServerRuntime::run() {
  obs::info("role.started", {{"pid", ::getpid()}, {"version", version()}});
  io_.run();
  admin_.stop();
  obs::info("role.stopped", {{"drain", io::to_string(signals_.outcome())}});
  return kExitOk;
}

}  // namespace spofless::roles
