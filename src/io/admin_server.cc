#include "io/admin_server.h"

#include <exception>
#include <list>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "core/check.h"
#include "io/address.h"
#include "io/listen.h"
#include "obs/log.h"

namespace spofless::io {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kJsonType = "application/json";

// The path label of spofless_admin_requests_total: the known routes, anything else "other",
// so that scanners probing random paths cannot grow the label set.
enum class Route { kHealth, kReady, kMetrics, kStatus, kOther };

Route route_of(std::string_view path) {
  if (path == "/health") return Route::kHealth;
  if (path == "/ready") return Route::kReady;
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/status") return Route::kStatus;
  return Route::kOther;
}

std::string_view path_label(Route route) {
  switch (route) {
    case Route::kHealth:
      return "/health";
    case Route::kReady:
      return "/ready";
    case Route::kMetrics:
      return "/metrics";
    case Route::kStatus:
      return "/status";
    case Route::kOther:
      return "other";
  }
  SPOFLESS_UNREACHABLE("every route has a label");
}

Response make_response(http::status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

// The status to answer a failed read with, or nothing when the peer is gone (closed, reset,
// timed out, or stop() closed the socket) and there is no one to answer.
std::optional<http::status> status_for_read_error(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit) return http::status::payload_too_large;
  if (ec == http::error::buffer_overflow) return http::status::request_header_fields_too_large;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return http::status::bad_request;
  }
  return std::nullopt;
}

// Completion of a detached coroutine: an exception there is a bug, so it leaves io.run().
void rethrow(std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
}

double unix_seconds_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

// Everything the coroutines touch. Lives as long as the longest of the AdminServer and its
// pending coroutines; only the io_context thread uses it.
class AdminServer::State {
 public:
  State(asio::io_context& io, obs::Registry& registry, AdminHandlers handlers, std::string role,
        std::string version, AdminLimits limits);

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  static asio::awaitable<void> serve(std::shared_ptr<State> self, tcp::socket socket);
  void stop();

  asio::io_context& io_;
  obs::Registry& registry_;
  AdminHandlers handlers_;
  const std::string role_;
  const std::string version_;
  const AdminLimits limits_;
  const std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;  // set by listen()
  bool draining_ = false;
  bool stopped_ = false;
  std::list<beast::tcp_stream*> connections_;  // open connections, for stop()
  obs::Counter& rejected_;
  obs::Gauge& open_;

 private:
  // Registers a connection for stop() and counts it as open, for the coroutine's lifetime.
  class Tracked {
   public:
    Tracked(State& state, beast::tcp_stream& stream);
    ~Tracked();
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;

   private:
    State& state_;
    std::list<beast::tcp_stream*>::iterator it_;
  };

  Response respond(const Request& req);
  Response route(Route route, std::string_view query);
  Readiness readiness(std::string_view query) const;
  nlohmann::json status_json();
  void count(Route route, unsigned code);
};

AdminServer::State::State(asio::io_context& io, obs::Registry& registry, AdminHandlers handlers,
                          std::string role, std::string version, AdminLimits limits)
    : io_(io),
      registry_(registry),
      handlers_(std::move(handlers)),
      role_(std::move(role)),
      version_(std::move(version)),
      limits_(limits),
      acceptor_(io),
      rejected_(registry.counter("spofless_admin_connections_rejected_total",
                                 "Admin connections closed at once: the limit was reached.")),
      open_(registry.gauge("spofless_admin_connections_open", "Open admin connections.")) {
  registry
      .gauge("spofless_build_info", "Always 1; the labels say what runs.",
             {{"role", role_}, {"version", version_}})
      .set(1);
  registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch.")
      .set(unix_seconds_now());
}

AdminServer::State::Tracked::Tracked(State& state, beast::tcp_stream& stream)
    : state_(state), it_(state.connections_.insert(state.connections_.end(), &stream)) {
  state_.open_.add(1);
}

// After stop() the registry may already be gone (it only has to outlive the AdminServer),
// and stop() has zeroed the gauge.
AdminServer::State::Tracked::~Tracked() {
  state_.connections_.erase(it_);
  if (!state_.stopped_) state_.open_.add(-1);
}

asio::awaitable<void> AdminServer::State::accept_loop(std::shared_ptr<State> self) {
  asio::steady_timer retry(self->io_);
  while (self->acceptor_.is_open()) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(kAwaitTuple);
    if (!self->acceptor_.is_open()) co_return;
    if (ec) {
      obs::warn("admin.accept_failed", {{"error", ec.message()}});
      retry.expires_after(std::chrono::milliseconds(limits::kAdminAcceptRetryMs));
      co_await retry.async_wait(kAwaitTuple);
      continue;
    }
    if (self->connections_.size() >= self->limits_.max_connections) {
      self->rejected_.inc();
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(self->io_, serve(self, std::move(socket)), rethrow);
  }
}

asio::awaitable<void> AdminServer::State::serve(std::shared_ptr<State> self, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  Tracked tracked(*self, stream);
  // A request's header and body are bounded by the parser; the buffer holds at most one of
  // each plus the start of a pipelined next request.
  beast::flat_buffer buffer(2 * self->limits_.request_max_bytes);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(self->limits_.request_max_bytes));
    parser.body_limit(self->limits_.request_max_bytes);
    stream.expires_after(self->limits_.idle_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kAwaitTuple);
    Response res;
    if (!read_error) {
      res = self->respond(parser.get());
    } else if (auto status = status_for_read_error(read_error)) {
      obs::debug("admin.bad_request", {{"error", read_error.message()}});
      res = make_response(*status, kTextType, fmt::format("{}\n", http::obsolete_reason(*status)));
      res.keep_alive(false);
      res.prepare_payload();
      self->count(Route::kOther, res.result_int());
    } else {
      break;
    }
    stream.expires_after(self->limits_.idle_timeout);
    auto [write_error, written_bytes] = co_await http::async_write(stream, res, kAwaitTuple);
    if (write_error || !res.keep_alive()) break;
  }
  if (!self->stopped_) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
}

Response AdminServer::State::respond(const Request& req) {
  std::string_view target = req.target();
  std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  Route r = route_of(path);

  Response res;
  if (r == Route::kOther) {
    res = make_response(http::status::not_found, kTextType, "not found\n");
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res = make_response(http::status::method_not_allowed, kTextType, "method not allowed\n");
    res.set(http::field::allow, "GET, HEAD");
  } else {
    res = route(r, query);
  }
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  // HEAD: the headers GET would send, Content-Length included, and no body.
  if (req.method() == http::verb::head) res.body().clear();
  count(r, res.result_int());
  return res;
}

Response AdminServer::State::route(Route r, std::string_view query) {
  switch (r) {
    case Route::kHealth:
      return make_response(http::status::ok, kTextType, "ok\n");
    case Route::kReady: {
      Readiness ready = readiness(query);
      if (ready.is_ready) return make_response(http::status::ok, kTextType, "ready\n");
      std::string reason = ready.reason.empty() ? "not ready" : ready.reason;
      return make_response(http::status::service_unavailable, kTextType, reason + "\n");
    }
    case Route::kMetrics:
      return make_response(http::status::ok, kMetricsType, registry_.render());
    case Route::kStatus:
      return make_response(
          http::status::ok, kJsonType,
          status_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    case Route::kOther:
      break;
  }
  SPOFLESS_UNREACHABLE("unknown paths are answered before routing");
}

Readiness AdminServer::State::readiness(std::string_view query) const {
  if (draining_) return Readiness::not_ready("draining");
  return handlers_.ready ? handlers_.ready(query) : Readiness::ready();
}

nlohmann::json AdminServer::State::status_json() {
  Readiness ready = readiness({});
  std::chrono::duration<double> uptime = std::chrono::steady_clock::now() - started_at_;
  return nlohmann::json{
      {"role", role_},
      {"version", version_},
      {"pid", ::getpid()},
      {"uptime_seconds", uptime.count()},
      {"ready", ready.is_ready},
      {"ready_reason", ready.reason},
      {"role_status", handlers_.status ? handlers_.status() : nlohmann::json::object()},
  };
}

void AdminServer::State::count(Route r, unsigned code) {
  registry_
      .counter("spofless_admin_requests_total", "Admin HTTP requests by route and status code.",
               {{"path", std::string(path_label(r))}, {"code", std::to_string(code)}})
      .inc();
}

void AdminServer::State::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (beast::tcp_stream* stream : connections_) {
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
  }
  open_.set(0);
}

AdminServer::AdminServer(asio::io_context& io, obs::Registry& registry, AdminHandlers handlers,
                         std::string role, std::string version, AdminLimits limits)
    : state_(std::make_shared<State>(io, registry, std::move(handlers), std::move(role),
                                     std::move(version), limits)) {
  SPOFLESS_CHECK(limits.max_connections > 0, "an admin server serves at least one connection");
  SPOFLESS_CHECK(limits.request_max_bytes >= 1024, "a request line and headers must fit");
}

AdminServer::~AdminServer() { stop(); }

Status AdminServer::listen(const tcp::endpoint& endpoint) {
  SPOFLESS_CHECK(!state_->acceptor_.is_open() && !state_->stopped_, "listen() is called once");
  Result<tcp::endpoint> bound = listen_on(state_->acceptor_, endpoint, "admin address");
  if (!bound) return bound.status();
  state_->bound_ = *bound;
  obs::info("admin.listening", {{"addr", to_string(state_->bound_)}});
  asio::co_spawn(state_->io_, State::accept_loop(state_), rethrow);
  return Status::ok();
}

tcp::endpoint AdminServer::local_endpoint() const {
  SPOFLESS_CHECK(state_->bound_.port() != 0, "local_endpoint() after a successful listen()");
  return state_->bound_;
}

void AdminServer::set_ready_handler(ReadyHandler handler) {
  state_->handlers_.ready = std::move(handler);
}

void AdminServer::set_status_handler(StatusHandler handler) {
  state_->handlers_.status = std::move(handler);
}

void AdminServer::start_draining() { state_->draining_ = true; }

bool AdminServer::draining() const { return state_->draining_; }

void AdminServer::stop() { state_->stop(); }

}  // namespace spofless::io
