#include "roles/db/client_server.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "core/limits.h"
#include "io/address.h"
#include "io/listen.h"
#include "obs/log.h"
#include "proto/resp.h"
#include "roles/db/commands.h"
#include "roles/db/node.h"
#include "roles/db/replies.h"

namespace spofless::db {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
// Requests a connection may have waiting for answers before its reads pause: a pipelining
// client is slowed down rather than queued without bound.
constexpr std::size_t kMaxOutstandingPerConnection = 1024;

}  // namespace

class ClientServer::State : public std::enable_shared_from_this<State> {
 public:
  State(asio::io_context& io, obs::Registry& registry, Node& node, ClientServerOptions options)
      : io_(io),
        acceptor_(io),
        node_(node),
        options_(std::move(options)),
        connections_open_(registry.gauge("spofless_db_client_connections",
                                         "Client connections open.")),
        rejected_(registry.counter("spofless_db_client_connections_rejected_total",
                                   "Client connections refused at the connection limit.")),
        protocol_errors_(registry.counter("spofless_db_client_protocol_errors_total",
                                          "Client connections closed for a RESP protocol error.")),
        commands_(registry.counter("spofless_db_commands_total", "Client commands received.")) {}

  class Connection;

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Node& node_;
  ClientServerOptions options_;
  std::set<std::shared_ptr<Connection>> open_;
  bool stopped_ = false;
  obs::Gauge& connections_open_;
  obs::Counter& rejected_;
  obs::Counter& protocol_errors_;
  obs::Counter& commands_;
};

class ClientServer::State::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<State> server, tcp::socket socket)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        resume_(socket_.get_executor()),
        session_(server_->node_, server_->options_) {
    resume_.expires_at(asio::steady_timer::time_point::max());
  }

  // Reads and runs requests until the client closes its side, sends QUIT or breaks the
  // protocol, then answers whatever is still owed and closes. This coroutine is what keeps the
  // connection alive (the server forgets it when it ends), so it ends only once every request
  // read was answered and written, or the socket is gone: a write waiting for its commit when
  // the client half-closed, or before a protocol error, still gets its answer.
  static asio::awaitable<void> serve(std::shared_ptr<Connection> self) {
    co_await read_requests(self);
    while (self->socket_.is_open() &&
           (!self->slots_.empty() || self->writing_ || !self->pending_.empty())) {
      co_await self->resume_.async_wait(kAwaitTuple);  // woken by flush(), write_loop, close()
    }
    self->close();
  }

  static asio::awaitable<void> read_requests(std::shared_ptr<Connection> self) {
    proto::RespRequestParser parser;
    std::vector<proto::RespArgs> requests;
    std::array<char, 16 * 1024> buf;
    std::string peer = describe(self->socket_);
    while (!self->closing_ && !self->close_after_flush_) {
      if (self->slots_.size() >= kMaxOutstandingPerConnection) {
        co_await self->resume_.async_wait(kAwaitTuple);
        continue;
      }
      auto [ec, n] = co_await self->socket_.async_read_some(asio::buffer(buf), kAwaitTuple);
      if (ec) break;
      requests.clear();
      Status parsed = parser.feed(std::string_view(buf.data(), n), requests);
      for (proto::RespArgs& argv : requests) {
        // As in Redis, nothing runs after QUIT, not even requests that arrived with it.
        if (self->close_after_flush_) co_return;
        self->handle(std::move(argv));
      }
      if (!parsed.is_ok() && !self->close_after_flush_) {
        self->server_->protocol_errors_.inc();
        obs::warn("client.protocol_error", {{"client", peer}, {"error", parsed.message()}});
        self->answer_now(error_reply(fmt::format("ERR {}", parsed.message())));
        self->close_after_flush_ = true;
        self->flush();
      }
    }
  }

  void close() {
    closing_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    resume_.cancel();
  }

 private:
  using Slot = std::shared_ptr<std::optional<std::string>>;

  static std::string describe(const tcp::socket& socket) {
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    return ec ? std::string("?") : io::to_string(remote);
  }

  void handle(proto::RespArgs argv) {
    server_->commands_.inc();
    Slot slot = std::make_shared<std::optional<std::string>>();
    slots_.push_back(slot);
    std::weak_ptr<Connection> weak = weak_from_this();
    session_.execute(std::move(argv), [weak, slot](std::string reply) {
      *slot = std::move(reply);
      if (auto self = weak.lock()) self->flush();
    });
    if (session_.wants_close()) close_after_flush_ = true;
  }

  void answer_now(std::string reply) {
    slots_.push_back(std::make_shared<std::optional<std::string>>(std::move(reply)));
  }

  // Moves answered requests, in order, to the output and writes them.
  void flush() {
    while (!slots_.empty() && slots_.front()->has_value()) {
      pending_ += **slots_.front();
      slots_.pop_front();
    }
    if (slots_.size() < kMaxOutstandingPerConnection) resume_.cancel();
    if (pending_.size() > limits::kDbMaxReplyBacklogBytes) {
      obs::warn("client.backlog_exceeded", {{"client", describe(socket_)},
                                            {"bytes", pending_.size()}});
      return close();
    }
    if (!writing_ && !pending_.empty() && socket_.is_open()) {
      writing_ = true;
      asio::co_spawn(socket_.get_executor(), write_loop(shared_from_this()), asio::detached);
    } else if (!writing_ && pending_.empty() && slots_.empty() && close_after_flush_) {
      close();
    }
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<Connection> self) {
    while (!self->pending_.empty() && self->socket_.is_open()) {
      std::string out = std::move(self->pending_);
      self->pending_.clear();
      auto [ec, n] = co_await asio::async_write(self->socket_, asio::buffer(out), kAwaitTuple);
      if (ec) {
        self->close();
        break;
      }
    }
    self->writing_ = false;
    if (self->close_after_flush_ && self->slots_.empty()) self->close();
    self->resume_.cancel();  // serve() may be waiting for the last answer to be written
  }

  std::shared_ptr<State> server_;
  tcp::socket socket_;
  asio::steady_timer resume_;  // cancelled when the outstanding requests drop below the cap
  ClientSession session_;
  std::deque<Slot> slots_;  // one per request, in arrival order
  std::string pending_;     // answers ready to write
  bool writing_ = false;
  bool closing_ = false;
  bool close_after_flush_ = false;
};

asio::awaitable<void> ClientServer::State::accept_loop(std::shared_ptr<State> self) {
  while (!self->stopped_) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(kAwaitTuple);
    if (self->stopped_) break;
    if (ec) {
      // Out of descriptors and the like: wait a moment instead of spinning.
      asio::steady_timer pause(self->io_, std::chrono::milliseconds(limits::kAdminAcceptRetryMs));
      co_await pause.async_wait(kAwaitTuple);
      continue;
    }
    if (self->open_.size() >= limits::kDbMaxClients) {
      self->rejected_.inc();
      std::string reply = error_reply("ERR max number of clients reached");
      boost::system::error_code ignored;
      asio::write(socket, asio::buffer(reply), ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    auto conn = std::make_shared<Connection>(self, std::move(socket));
    self->open_.insert(conn);
    self->connections_open_.set(static_cast<double>(self->open_.size()));
    asio::co_spawn(self->io_, Connection::serve(conn), [self, conn](std::exception_ptr e) {
      self->open_.erase(conn);
      self->connections_open_.set(static_cast<double>(self->open_.size()));
      if (e) std::rethrow_exception(e);
    });
  }
}

ClientServer::ClientServer(asio::io_context& io, obs::Registry& registry, Node& node,
                           ClientServerOptions options)
    : state_(std::make_shared<State>(io, registry, node, std::move(options))) {}

ClientServer::~ClientServer() { stop(); }

Status ClientServer::listen(const tcp::endpoint& endpoint) {
  Result<tcp::endpoint> bound = io::listen_on(state_->acceptor_, endpoint, "client address");
  if (!bound) return bound.status();
  obs::info("db.listening", {{"addr", io::to_string(*bound)}});
  asio::co_spawn(state_->io_, State::accept_loop(state_), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  return Status();
}

tcp::endpoint ClientServer::local_endpoint() const { return state_->acceptor_.local_endpoint(); }

std::size_t ClientServer::connections() const { return state_->open_.size(); }

void ClientServer::stop() {
  if (state_->stopped_) return;
  state_->stopped_ = true;
  boost::system::error_code ignored;
  state_->acceptor_.close(ignored);
  for (const auto& conn : state_->open_) conn->close();
}

}  // namespace spofless::db
